/*
 * log.c - syslog and stderr logging.
 */
#include "autoconfig.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"

static const char *log_ident = "limristem";
static unsigned log_destinations = LOG_TO_STDERR;
static _Atomic int log_threshold = LOG_LEVEL_INFO;
static pthread_mutex_t log_ratelimit_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARNING] = "warning",
	[LOG_LEVEL_NOTICE] = "notice",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

static const int level_priorities[] = {
	[LOG_LEVEL_ERROR] = LOG_ERR,
	[LOG_LEVEL_WARNING] = LOG_WARNING,
	[LOG_LEVEL_NOTICE] = LOG_NOTICE,
	[LOG_LEVEL_INFO] = LOG_INFO,
	[LOG_LEVEL_DEBUG] = LOG_DEBUG,
};

static const struct {
	const char *name;
	int facility;
} facilities[] = {
	{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON }, { "user", LOG_USER },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
	{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

void log_open(const char *ident, unsigned destinations, int facility)
{
	log_ident = ident;
	if (log_destinations & LOG_TO_SYSLOG)
		closelog();
	log_destinations = destinations;
	if (destinations & LOG_TO_SYSLOG)
		openlog(ident, LOG_PID | LOG_NDELAY, facility);
}

void log_close(void)
{
	if (log_destinations & LOG_TO_SYSLOG)
		closelog();
	log_destinations = LOG_TO_STDERR;
}

void log_set_level(enum log_level level)
{
	log_threshold = level;
}

bool log_enabled(enum log_level level)
{
	return (int)level <= log_threshold;
}

int log_level_parse(const char *name, enum log_level *level_r)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcasecmp(name, level_names[i]) == 0) {
			*level_r = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

const char *log_level_name(enum log_level level)
{
	return level_names[level];
}

int log_facility_parse(const char *name, int *facility_r)
{
	for (size_t i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++) {
		if (strcasecmp(name, facilities[i].name) == 0) {
			*facility_r = facilities[i].facility;
			return 0;
		}
	}
	return -1;
}

void log_format_line(char *buf, size_t size, const char *fmt, va_list ap)
{
	int n = vsnprintf(buf, size, fmt, ap);

	if (n < 0) {
		snprintf(buf, size, "(unformattable log message \"%s\")", fmt);
	} else if ((size_t)n >= size && size > 4) {
		memcpy(buf + size - 4, "...", 4);
	}
	for (char *p = buf; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c == 0x7f)
			*p = '?';
	}
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];

	if (!log_enabled(level))
		return;
	log_format_line(line, sizeof(line), fmt, ap);
	if (log_destinations & LOG_TO_SYSLOG)
		syslog(level_priorities[level], "%s%s%s",
		       level <= LOG_LEVEL_WARNING ? level_names[level] : "",
		       level <= LOG_LEVEL_WARNING ? ": " : "", line);
	if (log_destinations & LOG_TO_STDERR) {
		char out[LOG_LINE_MAX + 128];
		int n = snprintf(out, sizeof(out), "%s[%ld]: %s: %s\n", log_ident,
				 (long)getpid(), level_names[level], line);
		if (n > 0) {
			size_t len = (size_t)n < sizeof(out) ? (size_t)n : sizeof(out) - 1;
			ssize_t ignored = write(STDERR_FILENO, out, len);
			(void)ignored;
		}
	}
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void log_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_ERROR, fmt, ap);
	va_end(ap);
	exit(EXIT_FAILURE);
}

void log_ratelimited(struct log_ratelimit *rl, enum log_level level, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	int64_t now = clock_monotonic_ms();
	unsigned suppressed;
	va_list ap;

	pthread_mutex_lock(&log_ratelimit_lock);
	if (now < rl->next_ms) {
		rl->suppressed++;
		pthread_mutex_unlock(&log_ratelimit_lock);
		return;
	}
	suppressed = rl->suppressed;
	rl->suppressed = 0;
	rl->next_ms = now + rl->interval_ms;
	pthread_mutex_unlock(&log_ratelimit_lock);

	va_start(ap, fmt);
	log_format_line(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (suppressed > 0)
		log_msg(level, "%s (%u similar messages suppressed)", line, suppressed);
	else
		log_msg(level, "%s", line);
}

void error_format(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen == 0)
		return;
	va_start(ap, fmt);
	log_format_line(err, errlen, fmt, ap);
	va_end(ap);
}
