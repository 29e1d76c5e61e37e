# milter/spf.mk - SPF part of limristem-milter (library, unit test, fuzz target).
# Included from Makefile.am after tests/local.mk, so it may add to
# UNIT_TESTS and FUZZ_TARGETS with +=.

# libspfcheck, not libspf: the system's libspf2 must stay unmistakable.
noinst_LIBRARIES += milter/libspfcheck.a
milter_libspfcheck_a_SOURCES = \
	milter/spf.c milter/spf.h \
	milter/spf_dns.c milter/spf_dns.h \
	milter/spf_record.c milter/spf_record.h \
	milter/spf_syntax.c milter/spf_syntax.h

# The RFC 7208 suite is read in place from shared/, beside the repository.
SPF_CONFORMANCE_SUITE = $(abs_top_srcdir)/../shared/conformance/spf/rfc7208-tests.yml

if HAVE_YAML
UNIT_TESTS += tests/unit/test_spf
endif
tests_unit_test_spf_LDADD = milter/libspfcheck.a $(SPF2_LIBS) $(YAML_LIBS) $(LDADD)
tests_unit_test_spf_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/milter $(YAML_CFLAGS) \
	-DSPF_CONFORMANCE_SUITE=\"$(SPF_CONFORMANCE_SUITE)\"

FUZZ_TARGETS += tests/fuzz/fuzz_spf_record
if ENABLE_FUZZING
tests_fuzz_fuzz_spf_record_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_spf_record_LDADD = milter/libspfcheck.a $(SPF2_LIBS) $(LDADD)
tests_fuzz_fuzz_spf_record_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/milter
endif
