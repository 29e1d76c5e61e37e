# milter/arc.mk - ARC part of limristem-milter (library, unit test, fuzz target).
# Included from Makefile.am after tests/local.mk, so it may add to
# UNIT_TESTS and FUZZ_TARGETS with +=.
#
# milter/libarc.a is the pure core the milter calls: tag lists, DKIM
# canonicalization, key records, the crypto on OpenSSL, RFC 8617 chain
# validation and sealing. It knows nothing of libmilter.

noinst_LIBRARIES += milter/libarc.a

milter_libarc_a_SOURCES = \
	milter/arc.c milter/arc.h \
	milter/arc_keys.c milter/arc_keys.h \
	milter/arc_seal.c milter/arc_seal.h \
	milter/arc_seal_chain.c milter/arc_seal_chain.h \
	milter/arc_seal_fmt.c milter/arc_seal_fmt.h \
	milter/arc_sig.c milter/arc_sig.h \
	milter/canon.c milter/canon.h \
	milter/dkim_crypto.c milter/dkim_crypto.h \
	milter/dkim_pubkey.c milter/dkim_pubkey.h \
	milter/msgsplit.c milter/msgsplit.h \
	milter/tagvalue.c milter/tagvalue.h

ARC_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/milter
ARC_TEST_LDADD = milter/libarc.a $(LDADD)

UNIT_TESTS += tests/unit/test_tagvalue tests/unit/test_canon tests/unit/test_arc_chain
tests_unit_test_tagvalue_CPPFLAGS = $(ARC_TEST_CPPFLAGS)
tests_unit_test_tagvalue_LDADD = $(ARC_TEST_LDADD)
tests_unit_test_canon_CPPFLAGS = $(ARC_TEST_CPPFLAGS)
tests_unit_test_canon_LDADD = $(ARC_TEST_LDADD)
tests_unit_test_arc_chain_CPPFLAGS = $(ARC_TEST_CPPFLAGS)
tests_unit_test_arc_chain_LDADD = $(ARC_TEST_LDADD)

# The conformance suite is read in place from the shared directory beside
# the repository; LIMRISTEM_SHARED_DIR in the environment overrides it.
if HAVE_YAML
UNIT_TESTS += tests/unit/test_arc
tests_unit_test_arc_CPPFLAGS = $(ARC_TEST_CPPFLAGS) $(YAML_CFLAGS) \
	-DLR_SHARED_DIR=\"$(abs_top_srcdir)/../shared\"
tests_unit_test_arc_LDADD = $(ARC_TEST_LDADD) $(YAML_LIBS)
UNIT_TESTS += tests/unit/test_arc_seal
tests_unit_test_arc_seal_CPPFLAGS = $(ARC_TEST_CPPFLAGS) $(YAML_CFLAGS) \
	-DLR_SHARED_DIR=\"$(abs_top_srcdir)/../shared\"
tests_unit_test_arc_seal_LDADD = $(ARC_TEST_LDADD) $(YAML_LIBS)
endif

# The sealing driver of tests/integration/test_arc_interop.py.
check_PROGRAMS += tests/integration/lr-arcseal
tests_integration_lr_arcseal_CPPFLAGS = $(ARC_TEST_CPPFLAGS)
tests_integration_lr_arcseal_LDADD = $(ARC_TEST_LDADD)

FUZZ_TARGETS += tests/fuzz/fuzz_tagvalue tests/fuzz/fuzz_arc tests/fuzz/fuzz_arc_seal

if ENABLE_FUZZING
tests_fuzz_fuzz_tagvalue_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_tagvalue_CPPFLAGS = $(ARC_TEST_CPPFLAGS)
tests_fuzz_fuzz_tagvalue_LDADD = $(ARC_TEST_LDADD)
tests_fuzz_fuzz_arc_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_arc_CPPFLAGS = $(ARC_TEST_CPPFLAGS)
tests_fuzz_fuzz_arc_LDADD = $(ARC_TEST_LDADD)
tests_fuzz_fuzz_arc_seal_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_arc_seal_CPPFLAGS = $(ARC_TEST_CPPFLAGS)
tests_fuzz_fuzz_arc_seal_LDADD = $(ARC_TEST_LDADD)
endif
