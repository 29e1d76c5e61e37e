# mailauth/local.mk - the mail-authentication protocols as one library:
# DKIM (tag lists, canonicalization, keys, verification and signing on
# OpenSSL), ARC (RFC 8617 verification and sealing), SPF (on
# libspf2, every DNS question through the caller's lookup), DMARC (RFC 9989:
# record syntax, the DNS tree walk, alignment, policy), the From author domain,
# Authentication-Results (RFC 8601) and message splitting. Its unit tests,
# fuzz targets and the interop drivers of the integration tests are
# declared here too. Included from Makefile.am after tests/local.mk, so it
# may add to UNIT_TESTS, FUZZ_TARGETS and check_PROGRAMS with +=.
#
# It knows nothing of libmilter or of any daemon: the milter and mailadm
# link it, and a check gets its DNS answers from the caller's hooks.

noinst_LIBRARIES += mailauth/libmailauth.a
mailauth_libmailauth_a_CPPFLAGS = $(AM_CPPFLAGS) $(LIBPSL_CFLAGS) $(LIBXML2_CFLAGS) $(ZLIB_CFLAGS)
mailauth_libmailauth_a_SOURCES = \
	mailauth/arc_keys.c mailauth/arc_keys.h \
	mailauth/arc_seal.c mailauth/arc_seal.h \
	mailauth/arc_seal_chain.c mailauth/arc_seal_chain.h \
	mailauth/arc_seal_fmt.c mailauth/arc_seal_fmt.h \
	mailauth/arc_sig.c mailauth/arc_sig.h \
	mailauth/arc_verify.c mailauth/arc_verify.h \
	mailauth/authres.c mailauth/authres.h mailauth/authres_claim.c \
	mailauth/dkim_canon.c mailauth/dkim_canon.h \
	mailauth/dkim_crypto.c mailauth/dkim_crypto.h \
	mailauth/dkim_fold.c mailauth/dkim_fold.h \
	mailauth/dkim_keycache.c mailauth/dkim_keycache.h \
	mailauth/dkim_signkey.c mailauth/dkim_signkey.h \
	mailauth/dkim_pubkey.c mailauth/dkim_pubkey.h \
	mailauth/dkim_sig.c mailauth/dkim_sig.h \
	mailauth/dkim_sign.c mailauth/dkim_sign.h \
	mailauth/dkim_tags.c mailauth/dkim_tags.h \
	mailauth/dkim_verify.c mailauth/dkim_verify.h \
	mailauth/dmarc.c mailauth/dmarc.h \
	mailauth/dmarc_record.c mailauth/dmarc_record.h \
	mailauth/dmarc_report.c mailauth/dmarc_report.h \
	mailauth/dmarc_report_mail.c mailauth/dmarc_report_mail.h \
	mailauth/dmarc_report_unpack.c mailauth/dmarc_report_unpack.h \
	mailauth/dmarc_walk.c mailauth/dmarc_walk.h \
	mailauth/from_header.c mailauth/from_header.h \
	mailauth/msgsplit.c mailauth/msgsplit.h \
	mailauth/spf.c mailauth/spf.h \
	mailauth/spf_dns.c mailauth/spf_dns.h \
	mailauth/spf_record.c mailauth/spf_record.h \
	mailauth/spf_syntax.c mailauth/spf_syntax.h

# What a program linking the library needs after it.
MAILAUTH_LIBS = mailauth/libmailauth.a $(SPF2_LIBS) $(LIBPSL_LIBS) $(LIBXML2_LIBS) $(ZLIB_LIBS)
MAILAUTH_TEST_CPPFLAGS = $(AM_CPPFLAGS)
MAILAUTH_TEST_LDADD = $(MAILAUTH_LIBS) $(LDADD)

# --- unit tests ----------------------------------------------------------------
MAILAUTH_UNIT_TESTS = tests/unit/test_authres tests/unit/test_dkim_canon \
	tests/unit/test_dkim_keycache tests/unit/test_dkim_sign tests/unit/test_dkim_tags \
	tests/unit/test_dkim_verify tests/unit/test_dmarc tests/unit/test_dmarc_report \
	tests/unit/test_from_header \
	tests/unit/test_arc_chain
UNIT_TESTS += $(MAILAUTH_UNIT_TESTS)
tests_unit_test_authres_CPPFLAGS = $(MAILAUTH_TEST_CPPFLAGS)
tests_unit_test_authres_LDADD = $(MAILAUTH_TEST_LDADD)
tests_unit_test_dkim_canon_CPPFLAGS = $(MAILAUTH_TEST_CPPFLAGS)
tests_unit_test_dkim_canon_LDADD = $(MAILAUTH_TEST_LDADD)
tests_unit_test_dkim_keycache_CPPFLAGS = $(MAILAUTH_TEST_CPPFLAGS)
tests_unit_test_dkim_keycache_LDADD = $(MAILAUTH_TEST_LDADD)
tests_unit_test_dkim_sign_CPPFLAGS = $(MAILAUTH_TEST_CPPFLAGS)
tests_unit_test_dkim_sign_LDADD = $(MAILAUTH_TEST_LDADD)
tests_unit_test_dkim_tags_CPPFLAGS = $(MAILAUTH_TEST_CPPFLAGS)
tests_unit_test_dkim_tags_LDADD = $(MAILAUTH_TEST_LDADD)
tests_unit_test_dkim_verify_CPPFLAGS = $(MAILAUTH_TEST_CPPFLAGS)
tests_unit_test_dkim_verify_LDADD = $(MAILAUTH_TEST_LDADD)
tests_unit_test_dmarc_CPPFLAGS = $(MAILAUTH_TEST_CPPFLAGS)
tests_unit_test_dmarc_LDADD = $(MAILAUTH_TEST_LDADD)
tests_unit_test_dmarc_report_CPPFLAGS = $(MAILAUTH_TEST_CPPFLAGS)
tests_unit_test_dmarc_report_LDADD = $(MAILAUTH_TEST_LDADD)
tests_unit_test_from_header_CPPFLAGS = $(MAILAUTH_TEST_CPPFLAGS)
tests_unit_test_from_header_LDADD = $(MAILAUTH_TEST_LDADD)
tests_unit_test_arc_chain_CPPFLAGS = $(MAILAUTH_TEST_CPPFLAGS)
tests_unit_test_arc_chain_LDADD = $(MAILAUTH_TEST_LDADD)

# The ARC and SPF conformance suites are read in place from the shared
# directory beside the repository (LIMRISTEM_SHARED_DIR overrides it).
SPF_CONFORMANCE_SUITE = $(abs_top_srcdir)/../shared/conformance/spf/rfc7208-tests.yml
if HAVE_YAML
UNIT_TESTS += tests/unit/test_arc tests/unit/test_arc_seal tests/unit/test_spf
endif
tests_unit_test_arc_CPPFLAGS = $(MAILAUTH_TEST_CPPFLAGS) $(YAML_CFLAGS) \
	-DLR_SHARED_DIR=\"$(abs_top_srcdir)/../shared\"
tests_unit_test_arc_LDADD = $(MAILAUTH_TEST_LDADD) $(YAML_LIBS)
tests_unit_test_arc_seal_CPPFLAGS = $(MAILAUTH_TEST_CPPFLAGS) $(YAML_CFLAGS) \
	-DLR_SHARED_DIR=\"$(abs_top_srcdir)/../shared\"
tests_unit_test_arc_seal_LDADD = $(MAILAUTH_TEST_LDADD) $(YAML_LIBS)
tests_unit_test_spf_CPPFLAGS = $(MAILAUTH_TEST_CPPFLAGS) $(YAML_CFLAGS) \
	-DSPF_CONFORMANCE_SUITE=\"$(SPF_CONFORMANCE_SUITE)\"
tests_unit_test_spf_LDADD = $(MAILAUTH_TEST_LDADD) $(YAML_LIBS)

# --- the drivers of the interop tests (tests/integration) and the bench --------
check_PROGRAMS += tests/integration/lr-arcseal tests/integration/lr-dkimsign \
	tests/integration/lr-dkimverify
tests_integration_lr_arcseal_CPPFLAGS = $(MAILAUTH_TEST_CPPFLAGS)
tests_integration_lr_arcseal_LDADD = $(MAILAUTH_TEST_LDADD)
tests_integration_lr_dkimsign_CPPFLAGS = $(MAILAUTH_TEST_CPPFLAGS)
tests_integration_lr_dkimsign_LDADD = $(MAILAUTH_TEST_LDADD)
tests_integration_lr_dkimverify_CPPFLAGS = $(MAILAUTH_TEST_CPPFLAGS)
tests_integration_lr_dkimverify_LDADD = $(MAILAUTH_TEST_LDADD)
# make bench (tests/local.mk): our signer next to libopendkim's, in process,
# when configure found libopendkim (OPENDKIM_* are empty otherwise).
EXTRA_PROGRAMS += tests/bench/sign-bench
tests_bench_sign_bench_CPPFLAGS = $(MAILAUTH_TEST_CPPFLAGS) $(OPENDKIM_CFLAGS)
tests_bench_sign_bench_LDADD = $(MAILAUTH_TEST_LDADD) $(OPENDKIM_LIBS)

# --- fuzz targets --------------------------------------------------------------
FUZZ_TARGETS += tests/fuzz/fuzz_arc tests/fuzz/fuzz_arc_seal tests/fuzz/fuzz_authres \
	tests/fuzz/fuzz_dmarc_report \
	tests/fuzz/fuzz_dkim_sig tests/fuzz/fuzz_dkim_tags tests/fuzz/fuzz_dmarc_record \
	tests/fuzz/fuzz_from_header tests/fuzz/fuzz_spf_record
if ENABLE_FUZZING
tests_fuzz_fuzz_arc_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_arc_CPPFLAGS = $(MAILAUTH_TEST_CPPFLAGS)
tests_fuzz_fuzz_arc_LDADD = $(MAILAUTH_TEST_LDADD)
tests_fuzz_fuzz_arc_seal_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_arc_seal_CPPFLAGS = $(MAILAUTH_TEST_CPPFLAGS)
tests_fuzz_fuzz_arc_seal_LDADD = $(MAILAUTH_TEST_LDADD)
tests_fuzz_fuzz_authres_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_authres_CPPFLAGS = $(MAILAUTH_TEST_CPPFLAGS)
tests_fuzz_fuzz_authres_LDADD = $(MAILAUTH_TEST_LDADD)
tests_fuzz_fuzz_dkim_sig_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_dkim_sig_CPPFLAGS = $(MAILAUTH_TEST_CPPFLAGS)
tests_fuzz_fuzz_dkim_sig_LDADD = $(MAILAUTH_TEST_LDADD)
tests_fuzz_fuzz_dkim_tags_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_dkim_tags_CPPFLAGS = $(MAILAUTH_TEST_CPPFLAGS)
tests_fuzz_fuzz_dkim_tags_LDADD = $(MAILAUTH_TEST_LDADD)
tests_fuzz_fuzz_dmarc_record_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_dmarc_record_CPPFLAGS = $(MAILAUTH_TEST_CPPFLAGS)
tests_fuzz_fuzz_dmarc_record_LDADD = $(MAILAUTH_TEST_LDADD)
tests_fuzz_fuzz_dmarc_report_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_dmarc_report_CPPFLAGS = $(MAILAUTH_TEST_CPPFLAGS)
tests_fuzz_fuzz_dmarc_report_LDADD = $(MAILAUTH_TEST_LDADD)
tests_fuzz_fuzz_from_header_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_from_header_CPPFLAGS = $(MAILAUTH_TEST_CPPFLAGS)
tests_fuzz_fuzz_from_header_LDADD = $(MAILAUTH_TEST_LDADD)
tests_fuzz_fuzz_spf_record_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_spf_record_CPPFLAGS = $(MAILAUTH_TEST_CPPFLAGS)
tests_fuzz_fuzz_spf_record_LDADD = $(MAILAUTH_TEST_LDADD)
endif
