# policyd/local.mk - limristem-policyd, the Postfix policy server.

# The pure parts (request parser, check decisions, snapshot), shared with
# the unit and fuzz tests.
noinst_LIBRARIES += policyd/libpolicy.a
policyd_libpolicy_a_SOURCES = \
	policyd/blocklist.c \
	policyd/checks.h \
	policyd/ownership.c \
	policyd/policyd.h \
	policyd/quota.c \
	policyd/request.c policyd/request.h \
	policyd/sendlimit.c \
	policyd/snapshot.c policyd/snapshot.h \
	policyd/trap.c \
	policyd/verdict.c policyd/verdict.h

sbin_PROGRAMS += policyd/limristem-policyd
policyd_limristem_policyd_SOURCES = \
	policyd/blocklist_lookup.c \
	policyd/lookups.c \
	policyd/main.c \
	policyd/pending.h \
	policyd/service.c policyd/service.h \
	policyd/settings.c \
	policyd/zones.c policyd/zones.h
policyd_limristem_policyd_LDADD = policyd/libpolicy.a $(COMMON_LIBS)
dist_man_MANS += policyd/limristem-policyd.8
