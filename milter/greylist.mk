# milter/greylist.mk - the pure rules of greylisting and scoring
# (library, unit test, fuzz target). Included from Makefile.am after
# tests/local.mk, so it may add to UNIT_TESTS and FUZZ_TARGETS with +=.
#
# milter/libgreylist.a: sender normalization and triplet keys
# (greylist_key.c), the greylisting rules (greylist_decide.c) and the
# spam score (score.c). No I/O, no libmilter: the daemon's greylist.c
# and judge.c put them to work.

noinst_LIBRARIES += milter/libgreylist.a
milter_libgreylist_a_SOURCES = \
	milter/greylist_decide.c milter/greylist_decide.h \
	milter/greylist_key.c milter/greylist_key.h \
	milter/score.c milter/score.h

GREYLIST_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/milter
GREYLIST_TEST_LDADD = milter/libgreylist.a $(LDADD)

UNIT_TESTS += tests/unit/test_greylist
tests_unit_test_greylist_CPPFLAGS = $(GREYLIST_TEST_CPPFLAGS)
tests_unit_test_greylist_LDADD = $(GREYLIST_TEST_LDADD)

# the in-memory state (milter/store.c) used when there is no Redis
UNIT_TESTS += tests/unit/test_store
tests_unit_test_store_SOURCES = tests/unit/test_store.c milter/store.c
tests_unit_test_store_CPPFLAGS = $(GREYLIST_TEST_CPPFLAGS)

FUZZ_TARGETS += tests/fuzz/fuzz_greylist_sender

if ENABLE_FUZZING
tests_fuzz_fuzz_greylist_sender_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_greylist_sender_CPPFLAGS = $(GREYLIST_TEST_CPPFLAGS)
tests_fuzz_fuzz_greylist_sender_LDADD = $(GREYLIST_TEST_LDADD)
endif
