/*
 * log.h - logging to syslog and/or stderr with levels.
 *
 * One line per event. Messages are printf-formatted (checked by the
 * compiler); control characters in the final text are replaced with '?', so
 * a value copied from the network can never forge a second log line.
 * Thread-safe: syslog(3) is, and stderr lines are written with one call.
 */
#ifndef LIMRISTEM_LOG_H
#define LIMRISTEM_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_NOTICE,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

#define LOG_TO_STDERR 0x1
#define LOG_TO_SYSLOG 0x2

/* Longest line written; longer messages are cut and end in "...". */
#define LOG_LINE_MAX 2048

/* Starts logging as ident (the program name) to the given destinations. The
 * facility is a syslog facility such as LOG_MAIL. Safe to call again. */
void log_open(const char *ident, unsigned destinations, int facility);
void log_set_level(enum log_level level);
bool log_enabled(enum log_level level);
void log_close(void);

/* "error", "warning", "notice", "info", "debug" */
int log_level_parse(const char *name, enum log_level *level_r);
const char *log_level_name(enum log_level level);
/* "mail", "daemon", "user", "local0" .. "local7" */
int log_facility_parse(const char *name, int *facility_r);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Logs at error level and exits with status 1. */
void log_fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

#define log_error(...)   log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_notice(...)  log_msg(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_info(...)    log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)   do { if (log_enabled(LOG_LEVEL_DEBUG)) \
		log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__); } while (0)

/* At most one line per interval for a recurring condition (a dependency
 * that is down, say); the next line says how many were suppressed. */
struct log_ratelimit {
	int64_t interval_ms;
	int64_t next_ms;
	unsigned suppressed;
};
#define LOG_RATELIMIT_INIT(ms) { (ms), 0, 0 }
void log_ratelimited(struct log_ratelimit *rl, enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* An error message for an err/errlen pair: formatted like a log line,
 * cut with "..." when it does not fit. */
void error_format(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Formats into buf (always terminated) and replaces control characters.
 * Exposed for the unit tests. */
void log_format_line(char *buf, size_t size, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#endif
