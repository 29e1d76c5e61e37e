# common/local.mk - the shared library every program links.

noinst_LIBRARIES += common/liblimristem.a

common_liblimristem_a_SOURCES = \
	common/addr.c common/addr.h \
	common/backoff.c common/backoff.h \
	common/cidr.c common/cidr.h \
	common/clock.c common/clock.h \
	common/config.c common/config.h \
	common/config_value.c common/config_value.h \
	common/daemon.c common/daemon.h \
	common/daemon_cli.c common/daemon_cli.h \
	common/daemon_main.c common/daemon_main.h \
	common/db.c common/db.h \
	common/dns.c common/dns.h \
	common/dns_rdata.c common/dns_rdata.h \
	common/dns_upstream.c common/dns_upstream.h \
	common/dnsbl.c common/dnsbl.h \
	common/domainset.c common/domainset.h \
	common/endpoint.c common/endpoint.h \
	common/hash.c common/hash.h \
	common/keyfile.c common/keyfile.h \
	common/log.c common/log.h \
	common/metrics.c common/metrics.h \
	common/metrics_http.c common/metrics_http.h \
	common/migrate.c common/migrate.h \
	common/netstring.c common/netstring.h \
	common/number.c common/number.h \
	common/redis.c common/redis.h \
	common/redis_async.c common/redis_async.h \
	common/redis_connect.c common/redis_connect.h \
	common/rep_trace.c common/rep_trace.h \
	common/reputation.c common/reputation.h \
	common/secret.c common/secret.h \
	common/server.c common/server.h \
	common/settings.c common/settings.h \
	common/sql_split.c common/sql_split.h \
	common/strbuf.c common/strbuf.h \
	common/strset.c common/strset.h \
	common/table_source.c common/table_source.h \
	common/writeback.c common/writeback.h \
	common/xalloc.c common/xalloc.h
