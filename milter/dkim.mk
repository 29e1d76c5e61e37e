# milter/dkim.mk - DKIM verification part of limristem-milter (library on
# libopendkim, unit test, the lr-dkimverify driver of the interop test).
# Included from Makefile.am after tests/local.mk, so it may add to
# UNIT_TESTS and check_PROGRAMS with +=.
#
# milter/libdkimverify.a verifies every DKIM signature of a message with
# libopendkim, keys fetched through the caller's lookup hook (the milter
# plugs in common/dns.h). It knows nothing of libmilter.

noinst_LIBRARIES += milter/libdkimverify.a
milter_libdkimverify_a_SOURCES = milter/dkim_verify.c milter/dkim_verify.h
milter_libdkimverify_a_CPPFLAGS = $(AM_CPPFLAGS) $(OPENDKIM_CFLAGS)

DKIM_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/milter $(OPENDKIM_CFLAGS)
# libarc.a for msgsplit (the driver and the test split whole messages).
DKIM_TEST_LDADD = milter/libdkimverify.a milter/libarc.a $(OPENDKIM_LIBS) $(LDADD)

UNIT_TESTS += tests/unit/test_dkim_verify
tests_unit_test_dkim_verify_CPPFLAGS = $(DKIM_TEST_CPPFLAGS)
tests_unit_test_dkim_verify_LDADD = $(DKIM_TEST_LDADD)

check_PROGRAMS += tests/integration/lr-dkimverify
tests_integration_lr_dkimverify_CPPFLAGS = $(DKIM_TEST_CPPFLAGS)
tests_integration_lr_dkimverify_LDADD = $(DKIM_TEST_LDADD)
