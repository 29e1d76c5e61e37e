/*
 * test_config.c - the configuration loader: defaults, types, bounds, errors
 * that name file, line and key, foreign sections, printing.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/config.h"
#include "common/settings.h"
#include "unit.h"

struct demo {
	bool enabled;
	long long count;
	long long delay_ms;
	long long max_size;
	char *name;
	int mode_choice;
	unsigned socket_mode;
	struct endpoint address;
	struct config_strings zones;
	struct cidr_list networks;
	struct endpoint_list listen;
};

struct settings {
	struct common_settings common;
	struct demo demo;
};

static const char *const choices[] = { "reject", "defer", NULL };

static const char *no_spaces(const char *v)
{
	return strchr(v, ' ') ? "may not contain spaces" : NULL;
}

#define D(f) offsetof(struct demo, f)
static const struct config_option demo_options[] = {
	{ .name = "enabled", .type = CONFIG_BOOL, .offset = D(enabled), .default_value = "true" },
	{ .name = "count", .type = CONFIG_INT, .offset = D(count), .default_value = "5", .min = 1, .max = 10 },
	{ .name = "delay", .type = CONFIG_DURATION, .offset = D(delay_ms), .default_value = "\"5m\"",
	  .min = 1000, .max = 86400000 },
	{ .name = "max_size", .type = CONFIG_SIZE, .offset = D(max_size), .default_value = "\"10M\"",
	  .min = 1024, .max = 1LL << 30 },
	{ .name = "name", .type = CONFIG_STRING, .offset = D(name), .default_value = "\"demo\"",
	  .check = no_spaces },
	{ .name = "action", .type = CONFIG_ENUM, .offset = D(mode_choice), .default_value = "\"reject\"",
	  .choices = choices },
	{ .name = "socket_mode", .type = CONFIG_MODE, .offset = D(socket_mode), .default_value = "\"0660\"" },
	{ .name = "address", .type = CONFIG_ENDPOINT, .offset = D(address), .default_value = "\"\"",
	  .flags = CONFIG_LOCAL },
	{ .name = "zones", .type = CONFIG_STRING_LIST, .offset = D(zones), .default_value = "[]",
	  .check = no_spaces },
	{ .name = "networks", .type = CONFIG_CIDR_LIST, .offset = D(networks),
	  .default_value = "[ \"127.0.0.0/8\", \"::1\" ]" },
	{ .name = "listen", .type = CONFIG_ENDPOINT_LIST, .offset = D(listen),
	  .default_value = "[ \"unix:/run/demo.sock\" ]", .max = 2, .flags = CONFIG_REQUIRED },
	{ .name = NULL },
};

static const struct config_section sections[] = {
	CONFIG_COMMON_SECTIONS(struct settings, common),
	{ "srsd", demo_options, offsetof(struct settings, demo), NULL },
	{ NULL, NULL, 0, NULL },
};

static char path[64];

static int write_config(const char *text)
{
	FILE *fp;

	strcpy(path, "/tmp/lr-test-config.XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	fp = fdopen(fd, "w");
	fputs(text, fp);
	fclose(fp);
	return 0;
}

/* Loads text; returns the error message ("" on success) in err. */
static int load_text(const char *text, struct settings *s, char *err, size_t errlen)
{
	int ret;

	memset(s, 0, sizeof(*s));
	assert_int_equal(write_config(text), 0);
	ret = config_load(path, sections, s, err, errlen);
	unlink(path);
	if (ret == 0)
		assert_string_equal(err, "");
	return ret;
}

/* Loads text that must be valid; shows the loader's message if it is not. */
static void load_ok(const char *text, struct settings *s)
{
	char err[CONFIG_ERROR_MAX];

	if (load_text(text, s, err, sizeof(err)) != 0)
		fail_msg("unexpected error: %s", err);
}

static void test_defaults(void **state)
{
	struct settings s;
	char err[CONFIG_ERROR_MAX];

	memset(&s, 0, sizeof(s));
	assert_int_equal(config_load(NULL, sections, &s, err, sizeof(err)), 0);
	assert_true(s.demo.enabled);
	assert_int_equal(s.demo.count, 5);
	assert_int_equal(s.demo.delay_ms, 300000);
	assert_int_equal(s.demo.max_size, 10 * 1024 * 1024);
	assert_string_equal(s.demo.name, "demo");
	assert_int_equal(s.demo.socket_mode, 0660);
	assert_int_equal(s.demo.networks.count, 2);
	assert_int_equal(s.demo.listen.count, 1);
	assert_int_equal(s.common.redis.address.kind, ENDPOINT_NONE);
	assert_int_equal(s.common.redis.command_timeout_ms, 250);
	assert_int_equal(s.common.dns.timeout_ms, 5000);
	config_free(sections, &s);
}

static void test_values(void **state)
{
	struct settings s;

	load_ok(
		"# a comment\n"
		"srsd = {\n"
		"  enabled = false;\n"
		"  count = 10;\n"
		"  delay = \"1500ms\";\n"
		"  max_size = 4096;\n"
		"  name = \"x\\\"y\";\n"
		"  action = \"defer\";\n"
		"  socket_mode = \"0600\";\n"
		"  address = \"[::1]:9100\";\n"
		"  zones = [ \"zen.example\", \"bl.example\" ];\n"
		"  networks = \"192.0.2.0/24\";\n"
		"  listen = [ \"unix:/run/a.sock\", \"127.0.0.1:10003\" ];\n"
		"};\n"
		"redis = { address = \"unix:/run/redis/redis.sock\"; command_timeout = 1; };\n"
		"milter = { this_key_belongs_to_the_milter = 1; };\n", &s);
	assert_false(s.demo.enabled);
	assert_int_equal(s.demo.count, 10);
	assert_int_equal(s.demo.delay_ms, 1500);
	assert_int_equal(s.demo.max_size, 4096);
	assert_string_equal(s.demo.name, "x\"y");
	assert_int_equal(s.demo.mode_choice, 1);
	assert_int_equal(s.demo.socket_mode, 0600);
	assert_int_equal(s.demo.address.port, 9100);
	assert_int_equal(s.demo.zones.count, 2);
	assert_string_equal(s.demo.zones.items[1], "bl.example");
	assert_int_equal(s.demo.networks.count, 1);
	assert_int_equal(s.demo.listen.count, 2);
	assert_int_equal(s.common.redis.address.kind, ENDPOINT_UNIX);
	assert_int_equal(s.common.redis.command_timeout_ms, 1000);
	config_free(sections, &s);
}

static const struct {
	const char *text;
	const char *want;	/* the error after "path:" */
} error_cases[] = {
	{ "srsd = {\n  dealy = \"5m\";\n};\n", "2: srsd.dealy: unknown option (did you mean delay?)" },
	{ "srsd = {\n\n  nonsense = 1;\n};\n", "3: srsd.nonsense: unknown option" },
	{ "sdrs = { count = 1; };\n", "1: sdrs: unknown section" },
	{ "count = 1;\n", "1: count: unknown section" },
	{ "srsd = {\n  count = 11;\n};\n", "2: srsd.count: out of range (1 to 10)" },
	{ "srsd = {\n  count = 0;\n};\n", "2: srsd.count: out of range (1 to 10)" },
	{ "srsd = { count = \"5\"; };\n", "1: srsd.count: expected a whole number" },
	{ "srsd = { enabled = 1; };\n", "1: srsd.enabled: expected true or false" },
	{ "srsd = {\n delay = \"5 minuets\";\n};\n",
	  "2: srsd.delay: \"5 minuets\" is not a duration (examples: \"250ms\", \"30s\", \"5m\", \"2h\", \"7d\")" },
	{ "srsd = { delay = \"500ms\"; };\n", "1: srsd.delay: out of range (\"1s\" to \"1d\")" },
	{ "srsd = { delay = -5; };\n", "1: srsd.delay: a duration may not be negative" },
	{ "srsd = { max_size = \"2G\"; };\n", "1: srsd.max_size: out of range (\"1k\" to \"1G\")" },
	{ "srsd = { max_size = \"lots\"; };\n",
	  "1: srsd.max_size: \"lots\" is not a size (examples: 4096, \"64k\", \"10M\", \"1G\")" },
	{ "srsd = { name = \"a b\"; };\n", "1: srsd.name: \"a b\": may not contain spaces" },
	{ "srsd = { action = \"drop\"; };\n", "1: srsd.action: \"drop\" is not one of: reject, defer" },
	{ "srsd = { socket_mode = \"0999\"; };\n",
	  "1: srsd.socket_mode: \"0999\" is not an octal file mode such as \"0660\"" },
	{ "srsd = { address = \"192.0.2.1:80\"; };\n",
	  "1: srsd.address: \"192.0.2.1:80\": must be a unix socket or a loopback address" },
	{ "srsd = {\n zones = [ \"ok\",\n \"not ok\" ];\n};\n",
	  "3: srsd.zones: \"not ok\": may not contain spaces" },
	{ "srsd = { networks = [ \"192.0.2.1/24\" ]; };\n",
	  "1: srsd.networks: \"192.0.2.1/24\": the address has bits set beyond the prefix length" },
	{ "srsd = { listen = []; };\n", "1: srsd.listen: the list may not be empty" },
	{ "srsd = { listen = [ \"unix:/a\", \"unix:/b\", \"unix:/c\" ]; };\n",
	  "1: srsd.listen: at most 2 items" },
	{ "srsd = { listen = [ \"nowhere\" ]; };\n",
	  "1: srsd.listen: \"nowhere\": expected host:port, [IPv6-address]:port or unix:/path" },
	{ "dns = { upstream = [ \"dns.example\" ]; };\n",
	  "1: dns.upstream: \"dns.example\": not an IP address, IP:port or [IPv6]:port" },
	{ "dns = {\n recursive = true;\n upstream = [ \"192.0.2.53\" ];\n};\n",
	  "1: dns: recursive = true and an upstream list exclude each other" },
	{ "srsd = { count = = 1; };\n", "1: syntax error" },
	{ "srsd = { count = 1; count = 2; };\n", "1: duplicate setting name" },
};

static void test_errors(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(error_cases); i++) {
		struct settings s;
		char err[CONFIG_ERROR_MAX], want[CONFIG_ERROR_MAX];

		if (load_text(error_cases[i].text, &s, err, sizeof(err)) != -1)
			fail_msg("case %zu: accepted: %s", i, error_cases[i].text);
		snprintf(want, sizeof(want), "%s:%s", path, error_cases[i].want);
		if (strcmp(err, want) != 0)
			fail_msg("case %zu:\n got: %s\nwant: %s", i, err, want);
		config_free(sections, &s);
	}
}

static void test_missing_file(void **state)
{
	struct settings s;
	char err[CONFIG_ERROR_MAX];

	memset(&s, 0, sizeof(s));
	assert_int_equal(config_load("/nonexistent/limristem.conf", sections, &s, err, sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent/limristem.conf: cannot read: No such file or directory");
	config_free(sections, &s);
}

static void test_print_round_trip(void **state)
{
	struct settings s, again;
	char *text = NULL;
	size_t len = 0;
	FILE *mem;

	load_ok("srsd = { count = 7; zones = [ \"a\\\\b\" ]; delay = 90; };\n", &s);
	mem = open_memstream(&text, &len);
	config_print(mem, sections, &s, false);
	fclose(mem);
	assert_non_null(strstr(text, "\tcount = 7;\n"));
	assert_non_null(strstr(text, "\tdelay = \"90s\";\n"));
	load_ok(text, &again);
	assert_int_equal(again.demo.count, 7);
	assert_int_equal(again.demo.delay_ms, 90000);
	assert_string_equal(again.demo.zones.items[0], "a\\b");
	free(text);

	text = NULL;
	mem = open_memstream(&text, &len);
	config_print(mem, sections, &s, true);
	fclose(mem);
	assert_string_equal(text, "srsd = {\n\tcount = 7;\n\tdelay = \"90s\";\n\tzones = [ \"a\\\\b\" ];\n};\n");
	free(text);
	config_free(sections, &s);
	config_free(sections, &again);
}

static void test_value_parsers(void **state)
{
	long long v;
	unsigned mode;

	assert_int_equal(config_parse_duration("2h", &v), 0);
	assert_int_equal(v, 7200000);
	assert_int_equal(config_parse_duration("35d", &v), 0);
	assert_int_equal(v, 35LL * 86400000);
	assert_int_equal(config_parse_duration("1w", &v), 0);
	assert_int_equal(config_parse_duration("10", &v), 0);
	assert_int_equal(v, 10000);
	assert_int_equal(config_parse_duration("5 m", &v), 0);
	assert_int_equal(config_parse_duration("5mm", &v), -1);
	assert_int_equal(config_parse_duration("m", &v), -1);
	assert_int_equal(config_parse_duration("99999999999999999999d", &v), -1);
	assert_int_equal(config_parse_duration("5 ", &v), -1);	/* a space and no unit */
	assert_int_equal(config_parse_duration(" 5m", &v), -1);
	assert_int_equal(config_parse_duration("+5m", &v), -1);
	assert_int_equal(config_parse_duration("5  m", &v), -1);
	assert_int_equal(config_parse_duration("9223372036854775807ms", &v), 0);
	assert_int_equal(config_parse_duration("9223372036854775808ms", &v), -1);
	assert_int_equal(config_parse_size("18446744073709551617", &v), -1);	/* 2^64 + 1 */
	assert_int_equal(config_parse_size("64 k", &v), 0);
	assert_int_equal(config_parse_size("64k", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(config_parse_size("1GiB", &v), 0);
	assert_int_equal(v, 1LL << 30);
	assert_int_equal(config_parse_size("1T", &v), -1);
	assert_int_equal(config_parse_mode("0750", &mode), 0);
	assert_int_equal(mode, 0750);
	assert_int_equal(config_parse_mode("07777", &mode), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_print_round_trip),
		cmocka_unit_test(test_value_parsers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
