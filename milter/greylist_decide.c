/*
 * greylist_decide.c - the greylisting rules (see greylist_decide.h).
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "greylist_decide.h"

struct triplet {
	bool present, passed;
	long long first, last;
};

static struct triplet parse_triplet(const char *value, int64_t now_s)
{
	struct triplet t = { 0 };
	char extra;

	if (value == NULL)
		return t;
	if (sscanf(value, "wait %lld %c", &t.first, &extra) == 1)
		t.present = true;
	else if (sscanf(value, "pass %lld %lld %c", &t.first, &t.last, &extra) == 2)
		t.present = t.passed = true;
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
	long long count = 0, last = 0;
	char extra;

	memset(d, 0, sizeof(*d));
	if (origin == NULL || sscanf(origin, "%lld %lld %c", &count, &last, &extra) != 2 || count < 0)
		count = last = 0;
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
