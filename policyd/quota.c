/*
 * quota.c - refuse a recipient whose mailbox cannot take the message, at
 * RCPT time, so that no bounce is ever generated later by the delivery.
 *
 * An alias is refused only when every address it delivers to is a local
 * mailbox that is full; a message that can land somewhere is accepted.
 */
#include "autoconfig.h"

#include "policyd/checks.h"

#define ALIAS_DEPTH_MAX 4
#define ALIAS_TARGETS_MAX 64

/* Compares with the room left rather than adding the size to the usage:
 * both come from outside (the size from the client, up to INT64_MAX; the
 * usage from Dovecot's dict, possibly negative) and no sum of them may
 * overflow. */
static bool is_full(const struct account *a, long long size)
{
	long long used = a->used_bytes > 0 ? a->used_bytes : 0;

	if (a->quota_bytes <= 0)
		return false;
	if (used >= a->quota_bytes)
		return true;
	return size > a->quota_bytes - used;
}

/* 1: every target is a full mailbox, 0: not, -1: cannot tell (too deep). */
static int all_full(const struct snapshot *snap, const char *addr, long long size, int depth,
		    size_t *visited)
{
	const struct account *a = snapshot_account(snap, addr);
	const struct alias_targets *t;

	if (a != NULL)
		return is_full(a, size);
	t = snapshot_alias(snap, addr);
	if (t == NULL || t->count == 0 || depth >= ALIAS_DEPTH_MAX)
		return 0;
	for (size_t i = 0; i < t->count; i++) {
		if (++*visited > ALIAS_TARGETS_MAX ||
		    all_full(snap, t->destinations[i], size, depth + 1, visited) != 1)
			return 0;
	}
	return 1;
}

void quota_decide(const struct snapshot *snap, const char *recipient, long long size,
		  enum policyd_refusal action, struct verdict *v)
{
	size_t visited = 0;

	verdict_dunno(v);
	if (recipient[0] == '\0' || all_full(snap, recipient, size, 0, &visited) != 1)
		return;
	if (action == POLICYD_DEFER)
		verdict_set(v, VERDICT_DEFER, "quota",
			    "452 4.2.2 Mailbox full; try again later");
	else
		verdict_set(v, VERDICT_REJECT, "quota",
			    "552 5.2.2 Mailbox full: it cannot take this message");
}
