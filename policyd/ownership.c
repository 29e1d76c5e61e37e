/*
 * ownership.c - an authenticated user may only use envelope senders that
 * are their own account or an alias delivering to it, the check Postfix's
 * reject_sender_login_mismatch makes, on our tables. A catch-all alias
 * does not make every address of the domain its owner's.
 */
#include "autoconfig.h"

#include <string.h>

#include "policyd/checks.h"

#define ALIAS_DEPTH_MAX 4

static bool delivers_to(const struct snapshot *snap, const char *addr, const char *login, int depth)
{
	const struct alias_targets *t;

	if (strcmp(addr, login) == 0)
		return true;
	if (depth >= ALIAS_DEPTH_MAX || (t = snapshot_alias(snap, addr)) == NULL)
		return false;
	for (size_t i = 0; i < t->count; i++)
		if (delivers_to(snap, t->destinations[i], login, depth + 1))
			return true;
	return false;
}

bool sender_owned(const struct snapshot *snap, const char *login, const char *sender)
{
	if (sender[0] == '\0')
		return true;
	if (sender[0] == '@')	/* a catch-all source never names a sender */
		return false;
	return delivers_to(snap, sender, login, 0);
}

void ownership_decide(const struct snapshot *snap, const char *login, const char *sender,
		      struct verdict *v)
{
	verdict_dunno(v);
	if (!sender_owned(snap, login, sender))
		verdict_set(v, VERDICT_REJECT, "sender_ownership",
			    "553 5.7.1 Sender address <%s> is not owned by user %s",
			    sender, login);
}
