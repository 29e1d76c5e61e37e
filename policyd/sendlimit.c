/*
 * sendlimit.c - how much an authenticated user may send, and what happens
 * over the limit: a deferral with a clear text, and at hold_factor times
 * the limit the account is held as compromised (its mail goes to Postfix's
 * hold queue for the postmaster to look at).
 *
 * The counting itself is in Redis (service.c), shared by every node.
 */
#include "autoconfig.h"

#include <stdio.h>

#include "policyd/checks.h"

void send_limits_for(const struct account *account, const struct policyd_section *s,
		     struct send_limits *limits_r)
{
	limits_r->messages = s->send_limit_messages;
	limits_r->recipients = s->send_limit_recipients;
	if (account != NULL && account->limit_messages != ACCOUNT_LIMIT_DEFAULT)
		limits_r->messages = account->limit_messages;
	if (account != NULL && account->limit_recipients != ACCOUNT_LIMIT_DEFAULT)
		limits_r->recipients = account->limit_recipients;
	limits_r->hold_factor = s->hold_factor;
	limits_r->window_ms = s->send_window_ms;
}

double send_window_count(long long current, long long previous, double elapsed_fraction)
{
	if (elapsed_fraction < 0)
		elapsed_fraction = 0;
	if (elapsed_fraction > 1)
		elapsed_fraction = 1;
	return (double)current + (double)previous * (1.0 - elapsed_fraction);
}

/* "1h", "30m", "90s" */
static void format_window(long long ms, char *out, size_t outlen)
{
	long long s = ms / 1000;

	if (s % 3600 == 0)
		snprintf(out, outlen, "%lldh", s / 3600);
	else if (s % 60 == 0)
		snprintf(out, outlen, "%lldm", s / 60);
	else
		snprintf(out, outlen, "%llds", s);
}

void send_limit_decide(const char *login, const struct send_counts *counts,
		       const struct send_limits *limits, struct verdict *v)
{
	static const char *const what[] = { "messages", "recipients" };
	const double count[] = { counts->messages, counts->recipients };
	const long long limit[] = { limits->messages, limits->recipients };
	char window[32];
	int over = -1;

	verdict_dunno(v);
	for (int i = 0; i < 2; i++) {
		if (limit[i] <= 0)
			continue;
		if (count[i] > (double)limit[i] * (double)limits->hold_factor) {
			verdict_set(v, VERDICT_HOLD, "send_limit",
				    "HOLD account %s sent %.0f %s, %lld times its limit: held as "
				    "possibly compromised", login, count[i], what[i], limits->hold_factor);
			return;
		}
		if (count[i] > (double)limit[i] && over < 0)
			over = i;
	}
	if (over < 0)
		return;
	format_window(limits->window_ms, window, sizeof(window));
	verdict_set(v, VERDICT_DEFER, "send_limit",
		    "451 4.7.1 Sending limit reached: %s may send %lld %s per %s; try again later",
		    login, limit[over], what[over], window);
}

void send_held_verdict(const char *login, struct verdict *v)
{
	verdict_set(v, VERDICT_HOLD, "send_limit",
		    "HOLD account %s is held as possibly compromised until the postmaster releases it",
		    login);
}
