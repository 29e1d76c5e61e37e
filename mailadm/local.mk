# mailadm/local.mk - mailadm, the operator's CLI.

sbin_PROGRAMS += mailadm/mailadm
mailadm_mailadm_SOURCES = \
	mailadm/main.c \
	mailadm/account.c \
	mailadm/alias_loop.c mailadm/alias_loop.h \
	mailadm/blocklist.c \
	mailadm/cli.c mailadm/cli.h \
	mailadm/config_cmd.c \
	mailadm/db.c \
	mailadm/dkim.c \
	mailadm/dkim_keypair.c mailadm/dkim_keypair.h \
	mailadm/dmarc_reports.c \
	mailadm/dns.c \
	mailadm/domain.c \
	mailadm/forward.c \
	mailadm/greylist.c \
	mailadm/learn.c \
	mailadm/mailadm.h \
	mailadm/nouns.h \
	mailadm/output.c mailadm/output.h \
	mailadm/password.c mailadm/password.h \
	mailadm/query.c \
	mailadm/reputation.c \
	mailadm/settings.c \
	mailadm/trap.c \
	mailadm/trusted_reply.c \
	mailadm/validate.c mailadm/validate.h
mailadm_mailadm_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(LIBIDN2_CFLAGS) $(LIBCRYPT_CFLAGS)
mailadm_mailadm_LDADD = milter/libmilterrules.a $(MAILAUTH_LIBS) $(COMMON_LIBS) $(JANSSON_LIBS) $(LIBIDN2_LIBS) $(LIBCRYPT_LIBS)
dist_man_MANS += mailadm/mailadm.8

bashcompletiondir = $(datadir)/bash-completion/completions
dist_bashcompletion_DATA = mailadm/bash-completion/mailadm
