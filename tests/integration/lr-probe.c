/*
 * lr-probe.c - drive the common library from the command line, for the
 * integration tests (tests/integration/test_*.py).
 *
 * The tests start and stop real services around it; lr-probe is the
 * client side, through exactly the code the daemons use. Output is one
 * line per event, key=value, so tests can parse it.
 *
 *   lr-probe -c CONF config [--changed]      load, print effective settings
 *   lr-probe -c CONF migrate DIR             apply migrations
 *   lr-probe -c CONF sql SQL [PARAM...]      one prepared statement; "NULL" and
 *                                            "int:N" are typed parameters
 *   lr-probe -c CONF redis-loop MS COUNT     INCR every MS ms, thread-pool client
 *   lr-probe -c CONF redis-async-loop MS COUNT   the same, libevent client
 *   lr-probe -c CONF dns NAME TYPE [NAME TYPE...]   blocking lookups
 *   lr-probe -c CONF dns-async NAME TYPE [...]      libevent lookups
 *   lr-probe metrics HOST:PORT SECONDS       serve a demo registry
 *   lr-probe -c CONF writeback COUNT MS SQL...   through common/writeback: COUNT
 *                                            rounds, one every MS ms, each queueing
 *                                            every SQL (its ? is the round number);
 *                                            then waits until all is committed and
 *                                            prints the writeback_* metrics
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/config.h"
#include "common/db.h"
#include "common/dns.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/metrics_http.h"
#include "common/migrate.h"
#include "common/redis.h"
#include "common/redis_async.h"
#include "common/settings.h"
#include "common/strbuf.h"
#include "common/writeback.h"

struct probe_settings {
	struct common_settings common;
};

static const struct config_section sections[] = {
	CONFIG_COMMON_SECTIONS(struct probe_settings, common),
	{ NULL, NULL, 0, NULL },
};

static struct probe_settings settings;
static int64_t start_ms;

static int usage(void)
{
	fprintf(stderr, "usage: lr-probe [-c CONF] COMMAND ARGS (see lr-probe.c)\n");
	return 2;
}

static long elapsed(void)
{
	return (long)(clock_monotonic_ms() - start_ms);
}

/* --- config, migrate, sql ---------------------------------------------- */

static int cmd_config(int argc, char **argv)
{
	config_print(stdout, sections, &settings, argc > 0 && strcmp(argv[0], "--changed") == 0);
	return 0;
}

static struct db *open_db(void)
{
	char err[512];
	struct db *db = db_new(&settings.common.database, err, sizeof(err));

	if (db == NULL)
		fprintf(stderr, "lr-probe: %s\n", err);
	return db;
}

static int cmd_migrate(int argc, char **argv)
{
	struct db *db;
	char err[1024];
	unsigned applied, version;

	if (argc != 1)
		return usage();
	if ((db = open_db()) == NULL)
		return 1;
	if (migrate_apply(db, argv[0], &applied, err, sizeof(err)) < 0) {
		printf("error %s\n", err);
		db_free(&db);
		return 1;
	}
	migrate_current_version(db, &version);
	printf("applied=%u version=%u\n", applied, version);
	db_free(&db);
	return 0;
}

static int print_row(const struct db_row *row, void *arg)
{
	for (size_t i = 0; i < row->count; i++)
		printf("%s%s=%s", i ? "\t" : "row ", row->names[i], row->values[i] ? row->values[i] : "NULL");
	printf("\n");
	return 0;
}

static int cmd_sql(int argc, char **argv)
{
	struct db_param params[32];
	struct db *db;
	int ret;

	if (argc < 1 || argc > 33)
		return usage();
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "NULL") == 0)
			params[i - 1] = DB_NULL;
		else if (strncmp(argv[i], "int:", 4) == 0)
			params[i - 1] = DB_INT(strtoll(argv[i] + 4, NULL, 10));
		else
			params[i - 1] = DB_STR(argv[i]);
	}
	if ((db = open_db()) == NULL)
		return 1;
	ret = db_query(db, argv[0], params, (size_t)argc - 1, print_row, NULL);
	if (ret == DB_OK)
		printf("ok\n");
	else
		printf("error result=%s errno=%u message=%s\n",
		       ret == DB_UNAVAILABLE ? "unavailable" : "refused", db_errno(db), db_error(db));
	db_free(&db);
	return ret == DB_OK ? 0 : 1;
}

/* --- redis ---------------------------------------------------------------- */

static void print_reply(const char *client, int n, redisReply *reply)
{
	if (reply != NULL && reply->type == REDIS_REPLY_INTEGER)
		printf("t=%ld client=%s n=%d ok value=%lld\n", elapsed(), client, n, reply->integer);
	else
		printf("t=%ld client=%s n=%d fail\n", elapsed(), client, n);
	fflush(stdout);
}

static int cmd_redis_loop(int argc, char **argv)
{
	char err[512];
	struct redis *r;
	int interval, count;

	if (argc != 2)
		return usage();
	interval = atoi(argv[0]);
	count = atoi(argv[1]);
	r = redis_new(&settings.common.redis, err, sizeof(err));
	if (r == NULL) {
		fprintf(stderr, "lr-probe: %s\n", err);
		return 1;
	}
	for (int n = 0; n < count; n++) {
		redisReply *reply = redis_command(r, "INCR %sprobe", redis_key_prefix(r));
		print_reply("pool", n, reply);
		redis_reply_free(&reply);
		usleep((useconds_t)interval * 1000);
	}
	redis_free(&r);
	return 0;
}

struct async_loop {
	struct event_base *base;
	struct redis_async *ra;
	struct event *tick;
	int n, count;
};

static void on_async_reply(redisReply *reply, void *arg)
{
	struct async_loop *loop = arg;

	print_reply("async", loop->n, reply);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct async_loop *loop = arg;

	if (++loop->n >= loop->count) {
		event_base_loopexit(loop->base, NULL);
		return;
	}
	if (redis_async_command(loop->ra, on_async_reply, loop, "INCR %sprobe",
				redis_async_key_prefix(loop->ra)) < 0)
		printf("t=%ld client=async n=%d refused\n", elapsed(), loop->n);
	fflush(stdout);
}

static int cmd_redis_async_loop(int argc, char **argv)
{
	struct async_loop loop = { 0 };
	struct timeval tv;
	char err[512];

	if (argc != 2)
		return usage();
	tv.tv_sec = atoi(argv[0]) / 1000;
	tv.tv_usec = (atoi(argv[0]) % 1000) * 1000;
	loop.count = atoi(argv[1]);
	loop.n = -1;
	loop.base = event_base_new();
	loop.ra = redis_async_new(loop.base, &settings.common.redis, err, sizeof(err));
	if (loop.ra == NULL) {
		fprintf(stderr, "lr-probe: %s\n", err);
		return 1;
	}
	loop.tick = event_new(loop.base, -1, EV_PERSIST, on_tick, &loop);
	event_add(loop.tick, &tv);
	event_base_dispatch(loop.base);
	event_free(loop.tick);
	redis_async_free(&loop.ra);
	event_base_free(loop.base);
	return 0;
}

/* --- dns ------------------------------------------------------------------ */

static const struct {
	const char *name;
	enum dns_type type;
} dns_types[] = {
	{ "A", DNS_A }, { "AAAA", DNS_AAAA }, { "MX", DNS_MX }, { "TXT", DNS_TXT },
	{ "PTR", DNS_PTR }, { "NS", DNS_NS }, { "CNAME", DNS_CNAME },
};

static int parse_type(const char *s, enum dns_type *type_r)
{
	for (size_t i = 0; i < sizeof(dns_types) / sizeof(dns_types[0]); i++) {
		if (strcasecmp(s, dns_types[i].name) == 0) {
			*type_r = dns_types[i].type;
			return 0;
		}
	}
	return -1;
}

static void print_answer(const char *name, int64_t began, const struct dns_answer *a)
{
	printf("name=%s status=%s ttl=%u ms=%ld", name, dns_status_name(a->status), a->ttl,
	       (long)(clock_monotonic_ms() - began));
	if (a->why != NULL)
		printf(" why=\"%s\"", a->why);
	for (size_t i = 0; i < a->count; i++) {
		const struct dns_record *r = &a->records[i];
		char text[64];
		if (r->type == DNS_A || r->type == DNS_AAAA) {
			inet_ntop(r->type == DNS_A ? AF_INET : AF_INET6, r->data, text, sizeof(text));
			printf(" record=%s", text);
		} else if (r->type == DNS_MX) {
			printf(" record=%u:%s", r->preference, r->data);
		} else {
			printf(" record=\"%s\"", r->data);
		}
	}
	printf("\n");
	fflush(stdout);
}

static struct dns *open_dns(void)
{
	char err[512];
	struct dns *dns = dns_new(&settings.common.dns, err, sizeof(err));

	if (dns == NULL)
		fprintf(stderr, "lr-probe: %s\n", err);
	return dns;
}

/* Steps are NAME TYPE pairs, or "sleep MS" to pause (a test stops the DNS
 * server meanwhile). "sleeping" is printed when a pause starts. */
static int check_steps(int argc, char **argv)
{
	enum dns_type type;

	if (argc < 2 || argc % 2 != 0)
		return -1;
	for (int i = 0; i < argc; i += 2)
		if (strcmp(argv[i], "sleep") != 0 && parse_type(argv[i + 1], &type) < 0)
			return -1;
	return 0;
}

static void announce_sleep(void)
{
	printf("sleeping\n");
	fflush(stdout);
}

static int cmd_dns(int argc, char **argv)
{
	struct dns *dns;

	if (check_steps(argc, argv) < 0)
		return usage();
	if ((dns = open_dns()) == NULL)
		return 1;
	for (int i = 0; i < argc; i += 2) {
		enum dns_type type = DNS_A;
		int64_t began = clock_monotonic_ms();
		if (strcmp(argv[i], "sleep") == 0) {
			announce_sleep();
			usleep((useconds_t)atoi(argv[i + 1]) * 1000);
			continue;
		}
		parse_type(argv[i + 1], &type);
		struct dns_answer *a = dns_lookup(dns, argv[i], type);
		print_answer(argv[i], began, a);
		dns_answer_free(&a);
	}
	dns_free(&dns);
	return 0;
}

struct async_steps {
	struct dns *dns;
	struct event_base *base;
	struct event *pause;
	char **argv;
	int argc, next;
	int64_t began;
};

static void async_step(struct async_steps *st);

static void on_dns_answer(const struct dns_answer *a, void *arg)
{
	struct async_steps *st = arg;

	print_answer(st->argv[st->next - 2], st->began, a);
	async_step(st);
}

static void on_pause_over(evutil_socket_t fd, short what, void *arg)
{
	async_step(arg);
}

static void async_step(struct async_steps *st)
{
	enum dns_type type = DNS_A;
	const char *name, *arg;

	if (st->next >= st->argc) {
		event_base_loopexit(st->base, NULL);
		return;
	}
	name = st->argv[st->next];
	arg = st->argv[st->next + 1];
	st->next += 2;
	if (strcmp(name, "sleep") == 0) {
		struct timeval tv = { atoi(arg) / 1000, (atoi(arg) % 1000) * 1000 };
		announce_sleep();
		evtimer_add(st->pause, &tv);
		return;
	}
	parse_type(arg, &type);
	st->began = clock_monotonic_ms();
	dns_lookup_async(st->dns, name, type, on_dns_answer, st);
}

static int cmd_dns_async(int argc, char **argv)
{
	struct async_steps st = { .argv = argv, .argc = argc };

	if (check_steps(argc, argv) < 0)
		return usage();
	if ((st.dns = open_dns()) == NULL)
		return 1;
	st.base = event_base_new();
	st.pause = evtimer_new(st.base, on_pause_over, &st);
	if (dns_attach(st.dns, st.base) < 0) {
		fprintf(stderr, "lr-probe: cannot attach the resolver\n");
		return 1;
	}
	async_step(&st);
	event_base_dispatch(st.base);
	event_free(st.pause);
	dns_free(&st.dns);
	event_base_free(st.base);
	return 0;
}

/* --- metrics -------------------------------------------------------------- */

static int cmd_metrics(int argc, char **argv)
{
	struct endpoint ep;
	const char *why;
	char err[256];
	struct metrics *m;
	struct metrics_http *server;

	if (argc != 2 || endpoint_parse(argv[0], &ep, &why) < 0)
		return usage();
	m = metrics_new();
	struct metric *c = metrics_counter(m, "probe_requests_total", "kind=\"demo\"", "demo counter");
	struct metric *h = metrics_histogram(m, "probe_seconds", NULL, "demo latency",
					     metrics_latency_buckets, metrics_latency_bucket_count);
	metric_add(c, 42);
	metric_observe(h, 0.003);
	server = metrics_http_start(m, &ep, err, sizeof(err));
	if (server == NULL) {
		printf("error %s\n", err);
		metrics_free(&m);
		return 1;
	}
	printf("serving\n");
	fflush(stdout);
	sleep((unsigned)atoi(argv[1]));
	metrics_http_stop(&server);
	metrics_free(&m);
	return 0;
}

/* --- writeback ------------------------------------------------------------- */

/* The writeback_queued gauge: what is not committed (or given up) yet. */
static long long writeback_waiting(const struct metrics *m)
{
	struct strbuf text = STRBUF_INIT;
	const char *at;
	long long n = -1;

	metrics_render(m, &text);
	if ((at = strstr(strbuf_str(&text), "\nwriteback_queued{")) != NULL &&
	    (at = strchr(at, '}')) != NULL)
		n = strtoll(at + 1, NULL, 10);
	strbuf_release(&text);
	return n;
}

static void print_writeback_metrics(const struct metrics *m)
{
	struct strbuf text = STRBUF_INIT;

	metrics_render(m, &text);
	for (const char *line = strbuf_str(&text); *line != '\0'; ) {
		size_t len = strcspn(line, "\n");
		if (strncmp(line, "writeback_", 10) == 0)
			printf("metric %.*s\n", (int)len, line);
		line += len + (line[len] == '\n');
	}
	strbuf_release(&text);
}

static int cmd_writeback(int argc, char **argv)
{
	struct metrics *m;
	struct writeback *wb;
	char err[512];
	int count, interval_ms;

	if (argc < 3)
		return usage();
	count = atoi(argv[0]);
	interval_ms = atoi(argv[1]);
	m = metrics_new();
	wb = writeback_new("probe", "probe rows", &settings.common.database, m, err, sizeof(err));
	if (wb == NULL || writeback_start(wb) < 0) {
		fprintf(stderr, "lr-probe: %s\n", wb == NULL ? err : "cannot start the writer");
		writeback_free(&wb);
		metrics_free(&m);
		return 1;
	}
	for (int i = 0; i < count; i++) {
		for (int k = 2; k < argc; k++)
			writeback_push(wb, argv[k], (struct db_param[]){ DB_INT(i) },
				       strchr(argv[k], '?') != NULL ? 1 : 0);
		if (interval_ms > 0)
			usleep((useconds_t)interval_ms * 1000);
	}
	printf("pushed=%d\n", count);
	fflush(stdout);
	for (int64_t until = clock_monotonic_ms() + 120000;
	     writeback_waiting(m) != 0 && clock_monotonic_ms() < until; )
		usleep(50 * 1000);
	print_writeback_metrics(m);
	writeback_free(&wb);
	metrics_free(&m);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{ "config", cmd_config }, { "migrate", cmd_migrate }, { "sql", cmd_sql },
	{ "redis-loop", cmd_redis_loop }, { "redis-async-loop", cmd_redis_async_loop },
	{ "dns", cmd_dns }, { "dns-async", cmd_dns_async }, { "metrics", cmd_metrics },
	{ "writeback", cmd_writeback },
};

int main(int argc, char **argv)
{
	const char *conf = NULL;
	char err[CONFIG_ERROR_MAX];
	int opt, ret;

	while ((opt = getopt(argc, argv, "+c:")) != -1) {
		if (opt != 'c')
			return usage();
		conf = optarg;
	}
	if (optind >= argc)
		return usage();
	log_open("lr-probe", LOG_TO_STDERR, 0);
	if (config_load(conf, sections, &settings, err, sizeof(err)) < 0) {
		fprintf(stderr, "lr-probe: %s\n", err);
		config_free(sections, &settings);
		return 1;
	}
	log_apply_settings(&settings.common.log, "lr-probe", true);
	start_ms = clock_monotonic_ms();
	ret = -1;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[optind], commands[i].name) == 0)
			ret = commands[i].fn(argc - optind - 1, argv + optind + 1);
	if (ret < 0)
		ret = usage();
	config_free(sections, &settings);
	return ret;
}
