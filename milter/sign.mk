# milter/sign.mk - DKIM signing part of limristem-milter (library, unit
# test, the lr-dkimsign driver of the interop test, the signing benchmark).
# Included from Makefile.am after tests/local.mk and milter/arc.mk, so it
# may add to their variables with +=.
#
# milter/libdkimsign.a signs a message as libmilter hands it over, our own
# code on OpenSSL (no libopendkim). The key loader and the folding of
# signature fields go into milter/libarc.a instead, beside dkim_crypto.c:
# ARC sealing needs them too, and libarc.a must not depend on
# libdkimsign.a. Link order: libdkimsign.a before libarc.a.

milter_libarc_a_SOURCES += \
	milter/dkim_fold.c milter/dkim_fold.h \
	milter/sign_key.c milter/sign_key.h

noinst_LIBRARIES += milter/libdkimsign.a
milter_libdkimsign_a_SOURCES = milter/dkim_sign.c milter/dkim_sign.h

SIGN_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/milter $(OPENDKIM_CFLAGS)
SIGN_LDADD = milter/libdkimsign.a milter/libarc.a $(LDADD)

# The unit test checks our signatures with our verifier on libopendkim.
UNIT_TESTS += tests/unit/test_dkim_sign
tests_unit_test_dkim_sign_CPPFLAGS = $(SIGN_TEST_CPPFLAGS)
tests_unit_test_dkim_sign_LDADD = milter/libdkimsign.a milter/libdkimverify.a milter/libarc.a \
	$(OPENDKIM_LIBS) $(LDADD)

check_PROGRAMS += tests/integration/lr-dkimsign
tests_integration_lr_dkimsign_CPPFLAGS = $(SIGN_TEST_CPPFLAGS)
tests_integration_lr_dkimsign_LDADD = $(SIGN_LDADD)

# make bench (tests/local.mk): our signer next to libopendkim's, in process.
EXTRA_PROGRAMS += tests/bench/sign-bench
tests_bench_sign_bench_CPPFLAGS = $(SIGN_TEST_CPPFLAGS)
tests_bench_sign_bench_LDADD = $(SIGN_LDADD) $(OPENDKIM_LIBS)
