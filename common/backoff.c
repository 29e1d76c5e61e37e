/*
 * backoff.c - exponential backoff between reconnection attempts.
 */
#include "autoconfig.h"

#include "common/backoff.h"

void backoff_init(struct backoff *b, int64_t min_ms, int64_t max_ms)
{
	b->min_ms = min_ms < 1 ? 1 : min_ms;
	b->max_ms = max_ms < b->min_ms ? b->min_ms : max_ms;
	b->delay_ms = b->min_ms;
	b->next_ms = 0;
	b->failures = 0;
}

bool backoff_ready(const struct backoff *b, int64_t now_ms)
{
	return now_ms >= b->next_ms;
}

int64_t backoff_remaining(const struct backoff *b, int64_t now_ms)
{
	return now_ms >= b->next_ms ? 0 : b->next_ms - now_ms;
}

void backoff_failed(struct backoff *b, int64_t now_ms)
{
	b->next_ms = now_ms + b->delay_ms;
	b->delay_ms = b->delay_ms * 2 > b->max_ms ? b->max_ms : b->delay_ms * 2;
	b->failures++;
}

void backoff_succeeded(struct backoff *b)
{
	b->delay_ms = b->min_ms;
	b->next_ms = 0;
	b->failures = 0;
}
