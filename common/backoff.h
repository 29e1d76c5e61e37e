/*
 * backoff.h - when to try a failed dependency again.
 *
 * The wait doubles after each failure, from min_ms up to max_ms, and resets
 * on success. Callers fail fast while the wait runs, so a dead Redis or
 * database costs a comparison, not a timeout, per request. Not locked: the
 * owner serializes access.
 */
#ifndef LIMRISTEM_BACKOFF_H
#define LIMRISTEM_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>

struct backoff {
	int64_t min_ms;
	int64_t max_ms;
	int64_t delay_ms;	/* the wait after the next failure */
	int64_t next_ms;	/* monotonic time of the next allowed attempt */
	unsigned failures;	/* consecutive */
};

void backoff_init(struct backoff *b, int64_t min_ms, int64_t max_ms);
bool backoff_ready(const struct backoff *b, int64_t now_ms);
/* Milliseconds until the next attempt (0: now). */
int64_t backoff_remaining(const struct backoff *b, int64_t now_ms);
void backoff_failed(struct backoff *b, int64_t now_ms);
void backoff_succeeded(struct backoff *b);

#endif
