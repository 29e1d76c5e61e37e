/*
 * trap.c - the answers for mail to a spam trap and for a client network
 * blocked after writing to one. The text says the address takes no mail
 * without saying it is a trap.
 */
#include "autoconfig.h"

#include "policyd/checks.h"

void trap_verdict(const char *recipient, struct verdict *v)
{
	verdict_set(v, VERDICT_REJECT, "spam_trap",
		    "550 5.7.1 This address accepts no mail");
}

void block_verdict(const char *network, struct verdict *v)
{
	verdict_set(v, VERDICT_REJECT, "blocked",
		    "554 5.7.1 Service unavailable; client network %s is blocked for a while "
		    "after sending unsolicited mail", network);
}
