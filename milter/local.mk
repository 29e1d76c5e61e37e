# milter/local.mk - limristem-milter, the Postfix milter.
#
# The checks live in libraries of their own (milter/*.mk, each with its
# unit tests and fuzz targets); this is the daemon around them.

sbin_PROGRAMS += milter/limristem-milter
milter_limristem_milter_CPPFLAGS = $(AM_CPPFLAGS) $(OPENDKIM_CFLAGS)
milter_limristem_milter_SOURCES = \
	milter/callbacks.c \
	milter/dns_glue.c milter/dns_glue.h \
	milter/forward.c milter/forward.h \
	milter/greylist.c milter/greylist.h \
	milter/judge.c milter/judge.h \
	milter/main.c \
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
milter_limristem_milter_LDADD = milter/libgreylist.a milter/libdmarc.a milter/libdkimverify.a milter/libdkimsign.a \
	milter/libarc.a \
	milter/libauthres.a milter/libspfcheck.a $(SPF2_LIBS) $(MILTER_LIBS) $(OPENDKIM_LIBS) $(OPENDMARC_LIBS) $(LIBPSL_LIBS) $(COMMON_LIBS)
dist_man_MANS += milter/limristem-milter.8

# The milter protocol (pure: packets parsed and encoded, one connection's
# state machine), with unit tables and fuzz targets; the engine that
# speaks it on libevent is built on it.
noinst_LIBRARIES += milter/libmilterengine.a
milter_libmilterengine_a_SOURCES = milter/packet.c milter/packet.h \
	milter/session.c milter/session.h \
	milter/engine.c milter/engine.h
MILTER_PROTO_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/milter
MILTER_PROTO_LDADD = milter/libmilterengine.a $(LDADD)
UNIT_TESTS += tests/unit/test_milter_packet tests/unit/test_milter_session \
	tests/unit/test_milter_engine
tests_unit_test_milter_packet_CPPFLAGS = $(MILTER_PROTO_CPPFLAGS)
tests_unit_test_milter_packet_LDADD = $(MILTER_PROTO_LDADD)
tests_unit_test_milter_session_CPPFLAGS = $(MILTER_PROTO_CPPFLAGS)
tests_unit_test_milter_session_LDADD = $(MILTER_PROTO_LDADD)
tests_unit_test_milter_engine_CPPFLAGS = $(MILTER_PROTO_CPPFLAGS)
tests_unit_test_milter_engine_LDADD = $(MILTER_PROTO_LDADD)
FUZZ_TARGETS += tests/fuzz/fuzz_milter_packet tests/fuzz/fuzz_milter_session
if ENABLE_FUZZING
tests_fuzz_fuzz_milter_packet_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_milter_packet_CPPFLAGS = $(MILTER_PROTO_CPPFLAGS)
tests_fuzz_fuzz_milter_packet_LDADD = $(MILTER_PROTO_LDADD)
tests_fuzz_fuzz_milter_session_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_milter_session_CPPFLAGS = $(MILTER_PROTO_CPPFLAGS)
tests_fuzz_fuzz_milter_session_LDADD = $(MILTER_PROTO_LDADD)
endif
