/*
 * greylist_decide.c - the greylisting rules (see greylist_decide.h).
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "common/number.h"
#include "milter/greylist_decide.h"

/* Times (seconds) and counts read back from the store are believed up to
 * here: far past any clock, small enough that no difference or sum of two
 * of them overflows. */
#define STORED_NUMBER_MAX (1LL << 40)

struct triplet {
	bool present, passed;
	long long first, last;
};

/* want numbers separated by single spaces, and nothing else. 0 or -1. */
static int parse_numbers(const char *s, long long *v, size_t want)
{
	for (size_t i = 0; i < want; i++) {
		const char *space = strchr(s, ' ');
		size_t len = space != NULL ? (size_t)(space - s) : strlen(s);

		if ((space == NULL) != (i + 1 == want) ||
		    number_parse(s, len, 0, STORED_NUMBER_MAX, &v[i]) != NUMBER_OK)
			return -1;
		s += len + 1;
	}
	return 0;
}

/* "wait FIRST" or "pass FIRST LAST"; anything else counts as absent. */
static struct triplet parse_triplet(const char *value, int64_t now_s)
{
	struct triplet t = { 0 };
	long long v[2];

	if (value == NULL)
		return t;
	if (strncmp(value, "wait ", 5) == 0 && parse_numbers(value + 5, v, 1) == 0) {
		t.present = true;
		t.first = v[0];
	} else if (strncmp(value, "pass ", 5) == 0 && parse_numbers(value + 5, v, 2) == 0) {
		t.present = t.passed = true;
		t.first = v[0];
		t.last = v[1];
	}
	if (t.first > now_s + 86400)	/* from a clock far ahead: start over */
		t.present = false;
	return t;
}

/* "wait FIRST" (last < 0) or "pass FIRST LAST"; two numbers always fit. */
static void write_triplet(struct greylist_decision *d, long long first, long long last,
			  int64_t ttl_s)
{
	d->write_triplet = true;
	if (last < 0)
		snprintf(d->triplet_value, sizeof(d->triplet_value), "wait %lld", first);
	else
		snprintf(d->triplet_value, sizeof(d->triplet_value), "pass %lld %lld", first, last);
	d->triplet_ttl_s = ttl_s;
}

/* A delivery from the origin: counted once per whitelist_interval. */
static void count_delivery(const struct greylist_policy *p, int64_t now_s, long long count,
			   long long last, struct greylist_decision *d)
{
	if (p->whitelist_after <= 0 || (count > 0 && now_s - last < p->whitelist_interval_s))
		return;
	d->write_origin = true;
	snprintf(d->origin_value, sizeof(d->origin_value), "%lld %lld", count + 1, (long long)now_s);
	d->origin_ttl_s = p->pass_lifetime_s;
}

void greylist_decide(const struct greylist_policy *p, int64_t now_s, const char *triplet,
		     const char *origin, bool use_whitelist, struct greylist_decision *d)
{
	struct triplet t = parse_triplet(triplet, now_s);
	long long count = 0, last = 0, v[2];

	memset(d, 0, sizeof(*d));
	if (origin != NULL && parse_numbers(origin, v, 2) == 0) {	/* "COUNT LAST" */
		count = v[0];
		last = v[1];
	}
	if (use_whitelist && p->whitelist_after > 0 && count >= p->whitelist_after) {
		d->verdict = GREYLIST_PASS_WHITELISTED;
		count_delivery(p, now_s, count, last, d);
		return;
	}
	if (t.present && t.passed && now_s - t.last <= p->pass_lifetime_s) {
		d->verdict = GREYLIST_PASS_KNOWN;
		if (now_s - t.last >= p->whitelist_interval_s)	/* not a write per message */
			write_triplet(d, t.first, now_s, p->pass_lifetime_s);
	} else if (t.present && !t.passed && now_s - t.first < p->delay_s) {
		d->verdict = GREYLIST_DEFER_EARLY;
		d->retry_in_s = p->delay_s - (now_s - t.first);
		return;
	} else if (t.present && !t.passed && now_s - t.first <= p->delay_s + p->retry_window_s) {
		d->verdict = GREYLIST_PASS_RETRY;
		write_triplet(d, t.first, now_s, p->pass_lifetime_s);
	} else {
		d->verdict = GREYLIST_DEFER_NEW;
		d->retry_in_s = p->delay_s;
		write_triplet(d, now_s, -1, p->delay_s + p->retry_window_s);
		return;
	}
	if (use_whitelist)
		count_delivery(p, now_s, count, last, d);
}

bool greylist_verdict_passes(enum greylist_verdict v)
{
	return v >= GREYLIST_PASS_RETRY;
}

const char *greylist_verdict_name(enum greylist_verdict v)
{
	static const char *const names[] = { "deferred", "deferred-early", "passed-retry",
					     "passed", "whitelisted" };

	return (unsigned)v <= GREYLIST_PASS_WHITELISTED ? names[v] : "?";
}
