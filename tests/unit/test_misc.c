/*
 * test_misc.c - backoff, log line sanitizing, secret files.
 */
#include "autoconfig.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/backoff.h"
#include "common/log.h"
#include "common/secret.h"
#include "unit.h"

static void test_backoff(void **state)
{
	struct backoff b;

	backoff_init(&b, 50, 1000);
	assert_true(backoff_ready(&b, 0));
	backoff_failed(&b, 0);
	assert_false(backoff_ready(&b, 49));
	assert_true(backoff_ready(&b, 50));
	backoff_failed(&b, 50);	/* next wait: 100 */
	assert_int_equal(backoff_remaining(&b, 50), 100);
	for (int i = 0; i < 10; i++)
		backoff_failed(&b, 1000);
	assert_int_equal(backoff_remaining(&b, 1000), 1000);	/* capped */
	backoff_succeeded(&b);
	assert_true(backoff_ready(&b, 1000));
	backoff_failed(&b, 1000);
	assert_int_equal(backoff_remaining(&b, 1000), 50);	/* reset */
}

static void format(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void format(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_format_line(buf, size, fmt, ap);
	va_end(ap);
}

static void test_log_line(void **state)
{
	char buf[32];

	format(buf, sizeof(buf), "from=<%s>", "evil\r\nforged: line");
	assert_string_equal(buf, "from=<evil??forged: line>");
	format(buf, 12, "%s", "a long line that is cut");
	assert_string_equal(buf, "a long l...");
	enum log_level level;
	assert_int_equal(log_level_parse("Warning", &level), 0);
	assert_int_equal(level, LOG_LEVEL_WARNING);
	assert_int_equal(log_level_parse("loud", &level), -1);
	int facility;
	assert_int_equal(log_facility_parse("local3", &facility), 0);
	assert_int_equal(log_facility_parse("kernel", &facility), -1);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	fchmod(fd, mode);
	close(fd);
}

static void test_secret(void **state)
{
	char path[] = "/tmp/lr-secret.XXXXXX", err[256], *secret = NULL;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	write_file(path, "s3cr3t with spaces\r\nsecond line\n", 0640);
	assert_int_equal(secret_read_file(path, &secret, err, sizeof(err)), 0);
	assert_string_equal(secret, "s3cr3t with spaces");
	secret_free(&secret);
	assert_null(secret);
	write_file(path, "x", 0644);
	assert_int_equal(secret_read_file(path, &secret, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "readable by others"));
	unlink(path);
	assert_int_equal(secret_read_file(path, &secret, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "No such file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_log_line),
		cmocka_unit_test(test_secret),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
