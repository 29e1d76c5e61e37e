/*
 * test_daemon_main.c - the daemons' skeleton: the open-files limit it asks
 * for, and a fake program run through daemon_main() without privileges
 * (user "" keeps the current one): the order of its hooks, SIGHUP and
 * SIGTERM, a stop bounded by shutdown_timeout, and what each failure
 * leaves behind (nothing of ours; a live socket of someone else's intact).
 */
#include "autoconfig.h"

#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/daemon_main.h"
#include "common/settings.h"
#include "unit.h"

/* --- the open-files limit ------------------------------------------------------------------ */

static void test_fd_limit_wanted(void **state)
{
	assert_int_equal(daemon_fd_limit_wanted(1000, 2, 4096), 1000 + 2 + DAEMON_FD_RESERVE);
	assert_int_equal(daemon_fd_limit_wanted(0, 1, 4096), 4096);	/* no cap: all there is */
}

static void test_fd_limit_plan(void **state)
{
	static const struct {
		rlim_t cur, max, wanted;
		enum daemon_fd_plan plan;
		rlim_t set_cur, set_max;
		const char *why;
	} cases[] = {
		{ 65536, 65536, 2026, DAEMON_FD_KEEP, 65536, 65536, "covered (systemd's LimitNOFILE)" },
		{ 2026, 2026, 2026, DAEMON_FD_KEEP, 2026, 2026, "exactly covered" },
		{ 1024, 524288, 2026, DAEMON_FD_RAISE_SOFT, 524288, 524288, "all of the hard limit" },
		{ 4096, 524288, 2026, DAEMON_FD_RAISE_SOFT, 524288, 524288,
		  "covered, still all of the hard limit (the resolver may need it)" },
		{ 1024, 2026, 2026, DAEMON_FD_RAISE_SOFT, 2026, 2026, "up to a hard limit just enough" },
		{ 1024, RLIM_INFINITY, 2026, DAEMON_FD_RAISE_SOFT, 2026, RLIM_INFINITY, "no hard limit" },
		{ 4096, RLIM_INFINITY, 2026, DAEMON_FD_KEEP, 4096, RLIM_INFINITY,
		  "no hard limit, covered: never lowered" },
		{ RLIM_INFINITY, RLIM_INFINITY, 2026, DAEMON_FD_KEEP, RLIM_INFINITY, RLIM_INFINITY,
		  "no limit at all" },
		{ 1024, 1024, 2026, DAEMON_FD_RAISE_BOTH, 2026, 2026, "the hard limit short" },
		{ 1500, 2000, 2026, DAEMON_FD_RAISE_BOTH, 2026, 2026, "the hard limit just short" },
	};

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct rlimit cur = { cases[i].cur, cases[i].max }, set;

		assert_int_equal(daemon_fd_limit_plan(&cur, cases[i].wanted, &set), cases[i].plan);
		if (set.rlim_cur != cases[i].set_cur || set.rlim_max != cases[i].set_max)
			fail_msg("%s: set %llu/%llu", cases[i].why, (unsigned long long)set.rlim_cur,
				 (unsigned long long)set.rlim_max);
	}
}

/* --- a fake program ------------------------------------------------------------------------ */

struct fake_section {
	struct daemon_settings daemon;
	long long max_connections;
	long long marker;
};

struct fake_settings {
	struct common_settings common;
	struct fake_section fake;
};

static const struct config_option fake_options[] = {
	DAEMON_CONFIG_OPTIONS(struct fake_section, daemon, "[ \"unix:/nonexistent/fake.sock\" ]",
			      "\"\""),
	{ .name = "max_connections", .type = CONFIG_INT,
	  .offset = offsetof(struct fake_section, max_connections), .default_value = "10",
	  .min = 1, .max = 100000, .help = "connections" },
	{ .name = "marker", .type = CONFIG_INT, .offset = offsetof(struct fake_section, marker),
	  .default_value = "0", .min = 0, .max = 100, .help = "what a reload changes" },
	{ .name = NULL },
};

static const struct config_section fake_sections[] = {
	CONFIG_COMMON_SECTIONS(struct fake_settings, common),
	{ "fake", fake_options, offsetof(struct fake_settings, fake), NULL },
	{ NULL, NULL, 0, NULL },
};

/* What a test asks of the fake program, and what it saw. */
struct fake {
	struct fake_settings settings;
	char trace[256];
	bool fail_check, fail_privileged, fail_start, refuse_reload, never_stopped;
	int serve_status;		/* with the serve hook: what it returns */
	size_t listeners_taken;
	bool files_there_while_serving;
	long long marker_seen_by_reload;
	long long shutdown_ms;		/* shutdown_timeout in the file */
	struct event *timer;
	int step;
};

static char dir[64], conf_path[128], sock_path[128], pid_path[128];

static void note(struct fake *f, const char *what)
{
	size_t len = strlen(f->trace);

	snprintf(f->trace + len, sizeof(f->trace) - len, "%s%s", len ? " " : "", what);
}

static void write_config(long long marker, long long shutdown_timeout)
{
	FILE *fp = fopen(conf_path, "w");

	assert_non_null(fp);
	fprintf(fp, "log = { syslog = false; level = \"error\"; };\n"
		"fake = { listen = [ \"unix:%s\" ]; user = \"\"; socket_group = \"\";\n"
		"  socket_mode = \"0600\"; pid_file = \"%s\"; marker = %lld;\n"
		"  shutdown_timeout = \"%lldms\"; };\n", sock_path, pid_path, marker, shutdown_timeout);
	fclose(fp);
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static int fake_check(struct daemon *d, char *found_r, size_t foundlen, char *err, size_t errlen)
{
	struct fake *f = daemon_app(d);

	note(f, "check");
	snprintf(found_r, foundlen, "nothing else");
	if (f->fail_check)
		snprintf(err, errlen, "the check failed");
	return f->fail_check ? -1 : 0;
}

static int fake_privileged(struct daemon *d, char *err, size_t errlen)
{
	struct fake *f = daemon_app(d);

	note(f, "privileged");
	assert_non_null(daemon_base(d));
	assert_non_null(daemon_metrics(d));
	if (f->fail_privileged)
		snprintf(err, errlen, "privileged failed");
	return f->fail_privileged ? -1 : 0;
}

/* Raises SIGHUP, then (once the reload is seen) SIGTERM, twice. */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct fake *f = arg;
	struct timeval tv = { 0, 5000 };

	switch (f->step++) {
	case 0:
		write_config(7, f->shutdown_ms);
		raise(SIGHUP);
		break;
	case 1:
		raise(SIGTERM);
		break;
	case 2:
		raise(SIGTERM);	/* while stopping: logged, stop() not called again */
		return;
	}
	evtimer_add(f->timer, &tv);
}

static int fake_start(struct daemon *d, char *err, size_t errlen)
{
	struct fake *f = daemon_app(d);
	struct timeval tv = { 0, 5000 };
	int fds[4];

	note(f, "start");
	f->listeners_taken = daemon_take_listeners(d, fds, 4);
	assert_int_equal(daemon_take_listeners(d, fds + 1, 3), 0);	/* the second time: none */
	for (size_t i = 0; i < f->listeners_taken; i++)
		close(fds[i]);
	if (f->fail_start) {
		snprintf(err, errlen, "start failed");
		return -1;
	}
	f->timer = evtimer_new(daemon_base(d), on_timer, f);
	evtimer_add(f->timer, &tv);
	return 0;
}

static void fake_describe(struct daemon *d, char *buf, size_t len)
{
	struct fake *f = daemon_app(d);

	note(f, "describe");
	f->files_there_while_serving = exists(sock_path) && exists(pid_path);
	snprintf(buf, len, "fake");
}

static int fake_reload_check(struct daemon *d, void *fresh, char *err, size_t errlen)
{
	struct fake *f = daemon_app(d);

	note(f, "reload_check");
	assert_int_equal(((struct fake_settings *)fresh)->fake.marker, 7);
	assert_int_equal(f->settings.fake.marker, 0);	/* nothing changed yet */
	if (f->refuse_reload)
		snprintf(err, errlen, "refused");
	return f->refuse_reload ? -1 : 0;
}

static void fake_reload(struct daemon *d)
{
	struct fake *f = daemon_app(d);

	note(f, "reload");
	f->marker_seen_by_reload = f->settings.fake.marker;	/* in place */
}

static void fake_stop(struct daemon *d)
{
	struct fake *f = daemon_app(d);

	note(f, "stop");
	if (!f->never_stopped)
		daemon_stopped(d);
}

static void fake_cleanup(struct daemon *d)
{
	struct fake *f = daemon_app(d);

	note(f, "cleanup");
	if (f->timer != NULL)
		event_free(f->timer);
	f->timer = NULL;
}

static int fake_serve(struct daemon *d, char *err, size_t errlen)
{
	struct fake *f = daemon_app(d);

	note(f, "serve");
	write_config(7, 10000);
	daemon_request_reload(d);	/* as a serve() with signals of its own would */
	if (f->serve_status < 0)
		snprintf(err, errlen, "serve failed");
	return f->serve_status;
}

static const struct daemon_program fake_program = {
	.name = "fake", .check_what = "the configuration", .section = "fake",
	.sections = fake_sections, .settings_size = sizeof(struct fake_settings),
	.common_offset = offsetof(struct fake_settings, common),
	.daemon_offset = offsetof(struct fake_settings, fake.daemon),
	.max_connections_offset = offsetof(struct fake_settings, fake.max_connections),
	.check = fake_check, .privileged = fake_privileged, .start = fake_start,
	.describe = fake_describe, .reload_check = fake_reload_check, .reload = fake_reload,
	.stop = fake_stop, .cleanup = fake_cleanup,
};

static int run(const struct daemon_program *program, struct fake *f, const char *option)
{
	char name[] = "fake", c[] = "-c", opt[8] = "";
	char *argv[] = { name, c, conf_path, opt, NULL };

	if (option != NULL)
		snprintf(opt, sizeof(opt), "%s", option);
	else
		argv[3] = NULL;
	optind = 0;	/* getopt() from the start, every run */
	return daemon_main(program, f, &f->settings, option ? 4 : 3, argv);
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/test_daemon_main.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(conf_path, sizeof(conf_path), "%s/fake.conf", dir);
	snprintf(sock_path, sizeof(sock_path), "%s/fake.sock", dir);
	snprintf(pid_path, sizeof(pid_path), "%s/fake.pid", dir);
	write_config(0, 10000);
	return 0;
}

static int teardown(void **state)
{
	unlink(conf_path);
	unlink(sock_path);
	unlink(pid_path);
	return rmdir(dir);
}

/* --- the runs ------------------------------------------------------------------------------ */

static void test_signals_reload_and_stop(void **state)
{
	struct fake f = { .shutdown_ms = 10000 };

	write_config(0, f.shutdown_ms);
	assert_int_equal(run(&fake_program, &f, NULL), 0);
	assert_string_equal(f.trace, "privileged start describe reload_check reload stop cleanup");
	assert_int_equal(f.listeners_taken, 1);
	assert_true(f.files_there_while_serving);
	assert_int_equal(f.marker_seen_by_reload, 7);
	assert_false(exists(sock_path));
	assert_false(exists(pid_path));
}

static void test_refused_reload_keeps_settings(void **state)
{
	struct fake f = { .refuse_reload = true, .shutdown_ms = 10000 };

	write_config(0, f.shutdown_ms);
	assert_int_equal(run(&fake_program, &f, NULL), 0);
	assert_string_equal(f.trace, "privileged start describe reload_check stop cleanup");
}

/* A stop() that never finishes: the loop ends shutdown_timeout later. */
static void test_stop_bounded_by_shutdown_timeout(void **state)
{
	struct fake f = { .never_stopped = true, .shutdown_ms = 0 };
	int64_t start;

	write_config(0, f.shutdown_ms);
	alarm(10);	/* unbounded, it would never return */
	start = clock_monotonic_ns();
	assert_int_equal(run(&fake_program, &f, NULL), 0);
	alarm(0);
	assert_true(clock_monotonic_ns() - start >= 200 * 1000000LL);	/* the grace after 0 ms */
	assert_string_equal(f.trace, "privileged start describe reload_check reload stop cleanup");
	assert_int_equal(f.step, 3);	/* the second SIGTERM came, stop() ran once */
	assert_false(exists(sock_path));
}

static void test_failed_hooks_clean_up(void **state)
{
	struct fake f = { .fail_privileged = true };

	write_config(0, 10000);
	assert_int_equal(run(&fake_program, &f, NULL), 1);
	assert_string_equal(f.trace, "privileged cleanup");
	assert_false(exists(sock_path));
	assert_false(exists(pid_path));

	f = (struct fake){ .fail_start = true };
	assert_int_equal(run(&fake_program, &f, NULL), 1);
	assert_string_equal(f.trace, "privileged start cleanup");
	assert_false(exists(sock_path));
	assert_false(exists(pid_path));
}

/* Another process's live socket at our path: refused, and left alone. */
static void test_live_socket_is_not_ours(void **state)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct fake f = { 0 };
	int other = socket(AF_UNIX, SOCK_STREAM, 0);

	write_config(0, 10000);
	assert_true(strlen(sock_path) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, sock_path, strlen(sock_path) + 1);
	assert_int_equal(bind(other, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(other, 1), 0);
	assert_int_equal(run(&fake_program, &f, NULL), 1);
	assert_string_equal(f.trace, "cleanup");
	assert_true(exists(sock_path));
	assert_false(exists(pid_path));
	close(other);
	unlink(sock_path);
}

/* The pid file held by a running instance: nothing is touched. */
static void test_already_running(void **state)
{
	char err[256];
	struct fake f = { 0 };
	int held;

	write_config(0, 10000);
	held = daemon_pidfile_create(pid_path, err, sizeof(err));
	assert_true(held >= 0);
	assert_int_equal(run(&fake_program, &f, NULL), 1);
	assert_string_equal(f.trace, "cleanup");
	assert_false(exists(sock_path));
	assert_true(exists(pid_path));
	daemon_pidfile_remove(pid_path, &held);
}

static void test_serve_hook_and_its_status(void **state)
{
	struct daemon_program program = fake_program;
	struct fake f = { 0 };

	program.serve = fake_serve;
	program.serve_handles_signals = true;
	write_config(0, 10000);
	assert_int_equal(run(&program, &f, NULL), 0);
	assert_string_equal(f.trace, "privileged start describe serve reload_check reload cleanup");
	assert_int_equal(f.marker_seen_by_reload, 7);

	f = (struct fake){ .serve_status = -1 };
	write_config(0, 10000);
	assert_int_equal(run(&program, &f, NULL), 1);
	assert_false(exists(sock_path));
	assert_false(exists(pid_path));
}

static void test_check_and_bad_config(void **state)
{
	struct fake f = { 0 };
	FILE *fp;

	write_config(0, 10000);
	assert_int_equal(run(&fake_program, &f, "-t"), 0);
	assert_string_equal(f.trace, "check");
	f = (struct fake){ .fail_check = true };
	assert_int_equal(run(&fake_program, &f, "-t"), 1);

	fp = fopen(conf_path, "a");
	assert_non_null(fp);
	fputs("fake = { nonsense = 1; };\n", fp);
	fclose(fp);
	f = (struct fake){ 0 };
	assert_int_equal(run(&fake_program, &f, NULL), 1);
	assert_string_equal(f.trace, "");	/* nothing started, nothing to clean */
	assert_false(exists(sock_path));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fd_limit_wanted),
		cmocka_unit_test(test_fd_limit_plan),
		cmocka_unit_test(test_signals_reload_and_stop),
		cmocka_unit_test(test_refused_reload_keeps_settings),
		cmocka_unit_test(test_stop_bounded_by_shutdown_timeout),
		cmocka_unit_test(test_failed_hooks_clean_up),
		cmocka_unit_test(test_live_socket_is_not_ours),
		cmocka_unit_test(test_already_running),
		cmocka_unit_test(test_serve_hook_and_its_status),
		cmocka_unit_test(test_check_and_bad_config),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
