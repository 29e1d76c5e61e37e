/*
 * verdict.c - building and combining check decisions.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "policyd/verdict.h"

void verdict_set(struct verdict *v, enum verdict_kind kind, const char *check, const char *fmt, ...)
{
	va_list ap;
	int n;

	v->kind = kind;
	v->check = check;
	va_start(ap, fmt);
	n = vsnprintf(v->action, sizeof(v->action), fmt, ap);
	va_end(ap);
	if (n < 0)
		snprintf(v->action, sizeof(v->action), "%s", kind == VERDICT_REJECT
			 ? "550 5.7.1 Refused by policy" : "451 4.3.0 Policy check failed");
	/* a truncated text stays a valid action: its code comes first */
}

void verdict_dunno(struct verdict *v)
{
	v->kind = VERDICT_DUNNO;
	v->check = NULL;
	strcpy(v->action, "DUNNO");
}

void verdict_merge(struct verdict *into, const struct verdict *v)
{
	if (v->kind > into->kind)
		*into = *v;
}

const char *verdict_kind_name(enum verdict_kind kind)
{
	static const char *const names[] = { "dunno", "hold", "defer", "reject" };

	return kind <= VERDICT_REJECT ? names[kind] : "?";
}
