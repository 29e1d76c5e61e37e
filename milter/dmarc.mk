# milter/dmarc.mk - DMARC part of limristem-milter (library and unit test).
# Included from Makefile.am after tests/local.mk.

noinst_LIBRARIES += milter/libdmarc.a
milter_libdmarc_a_SOURCES = milter/dmarc.c milter/dmarc.h
milter_libdmarc_a_CPPFLAGS = $(AM_CPPFLAGS) $(LIBPSL_CFLAGS)

UNIT_TESTS += tests/unit/test_dmarc
tests_unit_test_dmarc_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/milter
tests_unit_test_dmarc_LDADD = milter/libdmarc.a $(OPENDMARC_LIBS) $(LIBPSL_LIBS) $(LDADD)
