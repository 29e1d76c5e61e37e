# milter/dmarc.mk - DMARC part of limristem-milter (record discovery, policy, the From
# author domain; library, unit tests, fuzz target).
# Included from Makefile.am after tests/local.mk.

noinst_LIBRARIES += milter/libdmarc.a
milter_libdmarc_a_SOURCES = milter/dmarc.c milter/dmarc.h milter/from_header.c milter/from_header.h
milter_libdmarc_a_CPPFLAGS = $(AM_CPPFLAGS) $(LIBPSL_CFLAGS)

UNIT_TESTS += tests/unit/test_dmarc tests/unit/test_from_header
tests_unit_test_from_header_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/milter
tests_unit_test_from_header_LDADD = milter/libdmarc.a $(LDADD)
tests_unit_test_dmarc_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/milter
tests_unit_test_dmarc_LDADD = milter/libdmarc.a $(OPENDMARC_LIBS) $(LIBPSL_LIBS) $(LDADD)

FUZZ_TARGETS += tests/fuzz/fuzz_from_header
if ENABLE_FUZZING
tests_fuzz_fuzz_from_header_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_from_header_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/milter
tests_fuzz_fuzz_from_header_LDADD = milter/libdmarc.a $(LDADD)
endif
