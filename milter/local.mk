# milter/local.mk - limristem-milter, the Postfix milter: the daemon.
#
# The protocols it checks are in mailauth/ (mailauth/local.mk). Here: the
# daemon, the pure parts it is made of, each with its unit tests and fuzz
# targets (the milter protocol's packets and sessions, the plan of which
# incoming header fields go, the rules of greylisting and scoring, the
# in-memory state), and the daemon around them.

sbin_PROGRAMS += milter/limristem-milter
milter_limristem_milter_SOURCES = milter/main.c
# libmilter is not linked: its header only gives the protocol's codes
milter_limristem_milter_LDADD = $(MILTER_DAEMON_LIBS) $(COMMON_LIBS)

# The daemon but main.c, so that unit tests and fuzz targets can drive its
# decision code with a context of their own.
noinst_LIBRARIES += milter/libmilterd.a
milter_libmilterd_a_SOURCES = \
	milter/context.c \
	milter/dns_glue.c milter/dns_glue.h \
	milter/filter.c milter/filter.h \
	milter/finish.c milter/finish.h \
	milter/forward.c milter/forward.h \
	milter/greylist.c milter/greylist.h \
	milter/inbound.c milter/inbound.h \
	milter/judge.c milter/judge.h \
	milter/message.c milter/message.h \
	milter/milter.h \
	milter/outbound.c milter/outbound.h \
	milter/rep_flush.c milter/rep_flush.h \
	milter/report.c \
	milter/settings.c \
	milter/store.c milter/store.h \
	milter/tables.c milter/tables.h \
	milter/trusted.c milter/trusted.h \
	milter/verify.c milter/verify.h
MILTER_DAEMON_LIBS = milter/libmilterd.a milter/libmilterengine.a milter/libmilterrules.a \
	$(MAILAUTH_LIBS)
dist_man_MANS += milter/limristem-milter.8

# The decision code's unit tests: a real context (tests/unit/milter_fixture.h)
# with local DNS data, the in-memory store and the tables from the
# configuration; nothing running.
MILTER_DECISION_TESTS = tests/unit/test_milter_verify tests/unit/test_milter_greylist \
	tests/unit/test_milter_judge tests/unit/test_milter_outbound tests/unit/test_milter_forward \
	tests/unit/test_milter_finish
UNIT_TESTS += $(MILTER_DECISION_TESTS)
MILTER_FIXTURE = tests/unit/milter_fixture.c tests/unit/milter_fixture_mail.c \
	tests/unit/milter_fixture.h
MILTER_FIXTURE_LDADD = $(MILTER_DAEMON_LIBS) $(LDADD)
tests_unit_test_milter_verify_SOURCES = tests/unit/test_milter_verify.c $(MILTER_FIXTURE)
tests_unit_test_milter_verify_LDADD = $(MILTER_FIXTURE_LDADD)
tests_unit_test_milter_greylist_SOURCES = tests/unit/test_milter_greylist.c $(MILTER_FIXTURE)
tests_unit_test_milter_greylist_LDADD = $(MILTER_FIXTURE_LDADD)
tests_unit_test_milter_judge_SOURCES = tests/unit/test_milter_judge.c $(MILTER_FIXTURE)
tests_unit_test_milter_judge_LDADD = $(MILTER_FIXTURE_LDADD)
tests_unit_test_milter_outbound_SOURCES = tests/unit/test_milter_outbound.c $(MILTER_FIXTURE)
tests_unit_test_milter_outbound_LDADD = $(MILTER_FIXTURE_LDADD)
tests_unit_test_milter_forward_SOURCES = tests/unit/test_milter_forward.c $(MILTER_FIXTURE)
tests_unit_test_milter_forward_LDADD = $(MILTER_FIXTURE_LDADD)
tests_unit_test_milter_finish_SOURCES = tests/unit/test_milter_finish.c $(MILTER_FIXTURE)
tests_unit_test_milter_finish_LDADD = $(MILTER_FIXTURE_LDADD)

# The pure rules: which incoming fields go (header_edit.c), greylisting's
# sender normalization and triplet keys (greylist_key.c) and decisions
# (greylist_decide.c), the spam score (score.c). No I/O.
noinst_LIBRARIES += milter/libmilterrules.a
milter_libmilterrules_a_SOURCES = \
	milter/greylist_decide.c milter/greylist_decide.h \
	milter/greylist_key.c milter/greylist_key.h \
	milter/header_edit.c milter/header_edit.h \
	milter/score.c milter/score.h
MILTER_RULES_LDADD = milter/libmilterrules.a $(MAILAUTH_LIBS) $(LDADD)
UNIT_TESTS += tests/unit/test_greylist tests/unit/test_header_edit tests/unit/test_store
tests_unit_test_greylist_LDADD = $(MILTER_RULES_LDADD)
tests_unit_test_header_edit_LDADD = $(MILTER_RULES_LDADD)
# the in-memory state (milter/store.c) used when there is no Redis
tests_unit_test_store_SOURCES = tests/unit/test_store.c milter/store.c
tests_unit_test_store_LDADD = milter/libmilterengine.a $(LDADD)
FUZZ_TARGETS += tests/fuzz/fuzz_greylist_sender tests/fuzz/fuzz_header_edit
if ENABLE_FUZZING
tests_fuzz_fuzz_greylist_sender_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_greylist_sender_LDADD = $(MILTER_RULES_LDADD)
tests_fuzz_fuzz_header_edit_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_header_edit_LDADD = $(MILTER_RULES_LDADD)
endif

# The milter protocol's engine: packets parsed and encoded and one
# connection's state machine (pure, with unit tables and fuzz targets),
# the event loops on libevent, and the fibers in which checks wait for DNS
# and Redis.
noinst_LIBRARIES += milter/libmilterengine.a
milter_libmilterengine_a_SOURCES = milter/packet.c milter/packet.h \
	milter/session.c milter/session.h \
	milter/engine.c milter/engine.h \
	milter/fiber.c milter/fiber.h \
	milter/wait.c milter/wait.h
MILTER_PROTO_LDADD = milter/libmilterengine.a $(LDADD)
UNIT_TESTS += tests/unit/test_milter_packet tests/unit/test_milter_session \
	tests/unit/test_milter_engine
tests_unit_test_milter_packet_LDADD = $(MILTER_PROTO_LDADD)
tests_unit_test_milter_session_LDADD = $(MILTER_PROTO_LDADD)
tests_unit_test_milter_engine_LDADD = $(MILTER_PROTO_LDADD)
FUZZ_TARGETS += tests/fuzz/fuzz_milter_packet tests/fuzz/fuzz_milter_session
if ENABLE_FUZZING
tests_fuzz_fuzz_milter_packet_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_milter_packet_LDADD = $(MILTER_PROTO_LDADD)
tests_fuzz_fuzz_milter_session_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_milter_session_LDADD = $(MILTER_PROTO_LDADD)
endif
