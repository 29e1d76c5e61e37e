# milter/authres.mk - Authentication-Results part of limristem-milter and
# the plan of which incoming header fields it deletes (library, unit tests,
# fuzz targets).
# Included from Makefile.am after tests/local.mk, so it may add to
# UNIT_TESTS and FUZZ_TARGETS with +=.
#
# milter/libauthres.a builds the RFC 8601 header field value the milter
# adds and reads the authserv-id of incoming Authentication-Results and
# ARC-Authentication-Results fields, decides whether a field claims our
# authserv-id, and plans the deletion of those and of foreign X-Spam-* and
# X-Limristem-* fields. Pure: no libmilter, no I/O.

noinst_LIBRARIES += milter/libauthres.a
milter_libauthres_a_SOURCES = milter/authres.c milter/authres.h milter/authres_claim.c \
	milter/header_edit.c milter/header_edit.h

AUTHRES_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/milter
AUTHRES_TEST_LDADD = milter/libauthres.a $(LDADD)

UNIT_TESTS += tests/unit/test_authres tests/unit/test_header_edit
tests_unit_test_authres_CPPFLAGS = $(AUTHRES_TEST_CPPFLAGS)
tests_unit_test_authres_LDADD = $(AUTHRES_TEST_LDADD)
tests_unit_test_header_edit_CPPFLAGS = $(AUTHRES_TEST_CPPFLAGS)
tests_unit_test_header_edit_LDADD = $(AUTHRES_TEST_LDADD)

FUZZ_TARGETS += tests/fuzz/fuzz_authres tests/fuzz/fuzz_header_edit

if ENABLE_FUZZING
tests_fuzz_fuzz_authres_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_authres_CPPFLAGS = $(AUTHRES_TEST_CPPFLAGS)
tests_fuzz_fuzz_authres_LDADD = $(AUTHRES_TEST_LDADD)
tests_fuzz_fuzz_header_edit_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_header_edit_CPPFLAGS = $(AUTHRES_TEST_CPPFLAGS)
tests_fuzz_fuzz_header_edit_LDADD = $(AUTHRES_TEST_LDADD)
endif
