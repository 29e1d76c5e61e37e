/*
 * main.c - limristem-milter: SPF, DKIM, DMARC and ARC for Postfix's
 * smtpd_milters, in one pass over each message.
 *
 * Describes the daemon to the skeleton (common/daemon_main.h) and wires
 * its parts, nothing more: as root the tables' source, the state store
 * and the learning secrets; as the service user the seal key, the
 * checkers and the engine (engine.h) on the listening sockets: a few event
 * loops, each with its own resolver, Redis client and fibers (filter.h).
 * The engine handles the signals: SIGTERM or SIGINT stop it, SIGHUP
 * reloads the tables (keys, forwarded addresses, exemptions, overrides);
 * settings change with a restart.
 */
#include "autoconfig.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/daemon_main.h"
#include "common/log.h"
#include "common/redis.h"
#include "common/redis_async.h"
#include "common/rep_trace.h"
#include "common/writeback.h"
#include "common/xalloc.h"
#include "milter/dns_glue.h"
#include "milter/engine.h"
#include "milter/fiber.h"
#include "milter/filter.h"
#include "milter/milter.h"
#include "milter/rep_flush.h"
#include "milter/score.h"
#include "milter/store.h"
#include "milter/tables.h"

static struct milter_context milter;

#define DNS_IDLE_CACHE (64 * 1024)	/* the least libunbound is given */

/* The secrets that sign reputation traces (the first one signs): needed
 * while reputation is on, unless learning.secrets_file is "" (then no
 * trace is written and mailadm learn has nothing to learn from). */
static int load_trace_keys(const struct milter_settings *settings, char *err, size_t errlen)
{
	const char *path = settings->learning.secrets_file;
	char why[CONFIG_ERROR_MAX / 2];
	int n;

	if (!settings->milter.reputation || path[0] == '\0')
		return 0;
	if (secret_list_read(path, REP_TRACE_SECRETS_MAX, REP_TRACE_SECRET_MIN, &milter.trace_keys,
			     why, sizeof(why)) == 0)
		return 0;
	n = snprintf(err, errlen, "learning.secrets_file: %s (the reputation traces mailadm learn "
		     "reads are signed with it; learning.secrets_file = \"\" writes none)", why);
	if (n < 0 || (size_t)n >= errlen)
		snprintf(err, errlen, "learning.secrets_file: %s", why);
	return -1;
}

/* Greylisting and reputation: Redis or memory, and the database writer.
 * Before the privilege drop: the password files are root's to read. */
static int open_state(const struct milter_settings *settings, struct metrics *m, char *err,
		      size_t errlen)
{
	const struct milter_section *s = &settings->milter;

	if (!s->greylisting && !s->reputation)
		return 0;
	if (load_trace_keys(settings, err, errlen) < 0)
		return -1;
	if (s->reputation && milter.trace_keys.count == 0)
		log_notice("milter: learning.secrets_file is empty: no X-Limristem-Reputation traces "
			   "are written (mailadm learn has nothing to learn from)");
	if (settings->common.redis.address.kind != ENDPOINT_NONE &&
	    (milter.redis = redis_new(&settings->common.redis, err, errlen)) == NULL)
		return -1;
	if (milter.redis == NULL)
		log_notice("milter: no Redis configured: greylisting and reputation state kept in "
			   "memory (this node only, lost on restart)");
	milter.store = store_new(milter.redis, (size_t)s->memory_state_max, m);
	if (s->reputation && settings->common.database.address.kind != ENDPOINT_NONE) {
		milter.writeback = writeback_new("milter", "reputation counters, trusted replies",
						 &settings->common.database, m, err, errlen);
		if (milter.writeback == NULL)
			return -1;
		milter.rep_flush = rep_flush_new(milter.writeback, s->reputation_flush_ms);
	}
	return 0;
}

/* --- the event loops ------------------------------------------------------------------ */

struct loops_arg {
	const struct milter_settings *settings;
	struct milter_engine *engine;
	size_t loops;
};

static void loop_teardown(void *arg)
{
	struct filter_loop *fl = arg;

	wait_loop_clear(&fl->wait);
	redis_async_free(&fl->wait.redis);
	dns_free(&fl->wait.dns);
	fiber_pool_free(&fl->fibers);
	free(fl);
}

/* Each loop's own resolver (answers come back to the loop that asked)
 * and Redis client. */
static void *loop_setup(struct event_base *base, size_t index, void *arg)
{
	struct loops_arg *a = arg;
	struct filter_loop *fl = xcalloc(1, sizeof(*fl));
	struct dns_settings dns;
	char err[CONFIG_ERROR_MAX];

	fl->mc = &milter;
	fl->engine = a->engine;
	fl->wait.base = base;
	fl->fibers = fiber_pool_new(64);
	/* dns.cache_size is shared out: each loop's resolver has a cache of its own */
	dns = a->settings->common.dns;
	dns.in_flight = DNS_IN_FLIGHT_BUSY;
	dns.cache_size = dns.cache_size / (long long)a->loops > DNS_IDLE_CACHE
			 ? dns.cache_size / (long long)a->loops : DNS_IDLE_CACHE;
	if ((fl->wait.dns = dns_new(&dns, err, sizeof(err))) == NULL ||
	    dns_attach(fl->wait.dns, base) < 0) {
		log_error("milter: event loop %zu: resolver: %s", index, err);
		loop_teardown(fl);
		return NULL;
	}
	if (milter.redis != NULL &&
	    (fl->wait.redis = redis_async_new(base, &a->settings->common.redis, err,
					      sizeof(err))) == NULL) {
		log_error("milter: event loop %zu: Redis: %s", index, err);
		loop_teardown(fl);
		return NULL;
	}
	return fl;
}

static void loop_enter(void *arg)
{
	struct filter_loop *fl = arg;

	wait_loop_set(&fl->wait);
}

static void reload(void *arg)
{
	log_notice("milter: SIGHUP: reloading the tables");
	tables_reload();
}

/* The CPUs this process may run on (taskset, systemd's CPUAffinity=). */
static size_t usable_cpus(void)
{
	cpu_set_t set;
	int n;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && (n = CPU_COUNT(&set)) > 0)
		return (size_t)n;
	n = (int)sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (size_t)n : 1;
}

static struct milter_engine *make_engine(const struct milter_settings *settings,
					 struct loops_arg *loops)
{
	const struct milter_section *s = &settings->milter;
	struct milter_engine_limits limits = {
		.loops = s->event_loops > 0 ? (size_t)s->event_loops : usable_cpus(),
		.max_connections = (size_t)s->max_connections,
		.idle_timeout_ms = s->timeout_ms,
		.shutdown_timeout_ms = s->daemon.shutdown_timeout_ms,
		.memory_max = (size_t)s->memory_max,
	};
	struct milter_loop_hooks hooks = { loop_setup, loop_enter, loop_teardown, loops };

	loops->loops = limits.loops;
	return milter_engine_new(&limits, &milter_filter, &hooks);
}

static void set_authserv_id(const struct milter_section *s)
{
	if (s->authserv_id[0] != '\0') {
		snprintf(milter.authserv_id, sizeof(milter.authserv_id), "%s", s->authserv_id);
		return;
	}
	if (gethostname(milter.authserv_id, sizeof(milter.authserv_id) - 1) < 0)
		snprintf(milter.authserv_id, sizeof(milter.authserv_id), "localhost");
}

/* --- the daemon's steps, for the skeleton ------------------------------------------- */

struct milter_daemon {
	struct milter_settings settings;
	struct milter_engine *engine;
	struct loops_arg loops;
};

static int check(struct daemon *d, char *found_r, size_t foundlen, char *err, size_t errlen)
{
	struct milter_daemon *md = daemon_app(d);
	int n;

	if (load_trace_keys(&md->settings, err, errlen) < 0)
		return -1;
	n = snprintf(found_r, foundlen, "%zu learning secrets", milter.trace_keys.count);
	if (n < 0 || (size_t)n >= foundlen)
		found_r[0] = '\0';
	return 0;
}

/* As root: the tables' source and the state store (password files). */
static int privileged(struct daemon *d, char *err, size_t errlen)
{
	struct milter_daemon *md = daemon_app(d);

	milter.settings = &md->settings.milter;
	set_authserv_id(&md->settings.milter);
	milter_context_metrics(&milter, daemon_metrics(d));
	if (tables_open(&md->settings, err, errlen) < 0 ||
	    open_state(&md->settings, daemon_metrics(d), err, errlen) < 0)
		return -1;
	return 0;
}

/* The checkers every loop shares; the resolver for checks outside the
 * loops (none while mail flows) gets the smallest cache. */
static int make_checkers(const struct milter_settings *settings, char *err, size_t errlen)
{
	struct dns_settings idle_dns = settings->common.dns;

	idle_dns.cache_size = DNS_IDLE_CACHE;
	if ((milter.dns = dns_new(&idle_dns, err, errlen)) == NULL ||
	    (milter.dkim_lib = dkim_verify_lib_new(err, errlen)) == NULL ||
	    (milter.dmarc = milter_dmarc_checker_new(&settings->milter, err, errlen)) == NULL ||
	    (milter.spf = spf_checker_new(dns_glue_spf, milter.dns, milter.authserv_id, err,
					  errlen)) == NULL)
		return -1;
	return 0;
}

/* As the service user: keys are read as it, the way every reload reads them. */
static int start(struct daemon *d, char *err, size_t errlen)
{
	struct milter_daemon *md = daemon_app(d);
	const struct milter_section *s = &md->settings.milter;
	int fd;

	if (s->arc_seal_domain[0] != '\0' &&
	    dkim_signkey_load(s->arc_seal_key, (unsigned)s->min_rsa_bits, &milter.seal_key, err, errlen) < 0)
		return -1;
	if (milter.seal_key != NULL && milter.seal_key->alg != DKIM_ALG_RSA_SHA256) {
		/* RFC 8617 names rsa-sha256 only; dkimpy and Mail::DKIM refuse others */
		snprintf(err, errlen, "milter.arc_seal_key: %s: ARC seals must be RSA (rsa-sha256); "
			 "verifiers refuse Ed25519 seals", s->arc_seal_key);
		return -1;
	}
	if (tables_start(err, errlen) < 0 ||
	    (milter.writeback != NULL && writeback_start(milter.writeback) < 0) ||
	    (milter.rep_flush != NULL && rep_flush_start(milter.rep_flush) < 0) ||
	    make_checkers(&md->settings, err, errlen) < 0)
		return -1;
	md->loops.settings = &md->settings;
	md->engine = md->loops.engine = make_engine(&md->settings, &md->loops);
	while (daemon_take_listeners(d, &fd, 1) == 1)
		if (milter_engine_add_listener(md->engine, fd) < 0) {
			close(fd);
			snprintf(err, errlen, "cannot serve a listening socket");
			return -1;
		}
	return 0;
}

static void describe(struct daemon *d, char *buf, size_t len)
{
	struct milter_daemon *md = daemon_app(d);

	snprintf(buf, len, "authserv-id %s, %zu event loops", milter.authserv_id, md->loops.loops);
}

static int serve(struct daemon *d, char *err, size_t errlen)
{
	struct milter_daemon *md = daemon_app(d);

	return milter_engine_run(md->engine, reload, NULL, err, errlen);
}

static void cleanup(struct daemon *d)
{
	struct milter_daemon *md = daemon_app(d);

	milter_engine_free(&md->engine);
	tables_stop();
	rep_flush_free(&milter.rep_flush);
	writeback_free(&milter.writeback);
	store_free(&milter.store);
	redis_free(&milter.redis);
	dkim_signkey_free(&milter.seal_key);
	spf_checker_free(&milter.spf);
	dmarc_checker_free(&milter.dmarc);
	dkim_verify_lib_free(&milter.dkim_lib);
	dns_free(&milter.dns);
	secret_list_clear(&milter.trace_keys);
}

static const struct daemon_program milter_program = {
	.name = "limristem-milter",
	.check_what = "the configuration and the learning secrets",
	.section = "milter",
	.sections = milter_config_sections,
	.settings_size = sizeof(struct milter_settings),
	.common_offset = offsetof(struct milter_settings, common),
	.daemon_offset = offsetof(struct milter_settings, milter.daemon),
	.max_connections_offset = offsetof(struct milter_settings, milter.max_connections),
	.serve_handles_signals = true,	/* the engine's control loop */
	.check = check, .privileged = privileged, .start = start, .describe = describe,
	.serve = serve, .cleanup = cleanup,
};

int main(int argc, char **argv)
{
	struct milter_daemon md;

	memset(&md, 0, sizeof(md));
	return daemon_main(&milter_program, &md, &md.settings, argc, argv);
}
