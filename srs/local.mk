# srs/local.mk - limristem-srsd, the SRS socketmap server.

# The pure parts (scheme, protocol, maps), shared with the unit and fuzz tests.
noinst_LIBRARIES += srs/libsrs.a
srs_libsrs_a_SOURCES = \
	srs/lookup.c srs/lookup.h \
	srs/socketmap.c srs/socketmap.h \
	srs/srs.c srs/srs.h

sbin_PROGRAMS += srs/limristem-srsd
srs_limristem_srsd_SOURCES = \
	srs/main.c \
	srs/domains.c srs/domains.h \
	srs/secrets.c \
	srs/service.c srs/service.h \
	srs/settings.c srs/srsd.h
srs_limristem_srsd_LDADD = srs/libsrs.a $(COMMON_LIBS)
dist_man_MANS += srs/limristem-srsd.8
