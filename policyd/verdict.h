/*
 * verdict.h - what one check decided about a request, and how several
 * decisions combine into the one action Postfix gets.
 */
#ifndef LIMRISTEM_POLICY_VERDICT_H
#define LIMRISTEM_POLICY_VERDICT_H

/* In order of precedence: a reject wins over a defer, a defer over a hold. */
enum verdict_kind { VERDICT_DUNNO, VERDICT_HOLD, VERDICT_DEFER, VERDICT_REJECT };

#define VERDICT_TEXT_MAX 400

struct verdict {
	enum verdict_kind kind;
	const char *check;		/* "quota", "send_limit", ... ; NULL for DUNNO */
	char action[VERDICT_TEXT_MAX];	/* the action= value: "552 5.2.2 ...", "HOLD ...", "DUNNO" */
};

/* Sets v; fmt gives the action text (the SMTP code first, or "HOLD ..."). */
void verdict_set(struct verdict *v, enum verdict_kind kind, const char *check, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void verdict_dunno(struct verdict *v);
/* Keeps the stronger of *into and *v (the earlier one on a tie). */
void verdict_merge(struct verdict *into, const struct verdict *v);
const char *verdict_kind_name(enum verdict_kind kind);

#endif
