/*
 * header_edit.c - the plan of header field deletions (see header_edit.h).
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "milter/header_edit.h"

static unsigned char ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

size_t header_edit_name_length(const char *name)
{
	size_t len = strlen(name);

	while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t'))
		len--;
	return len;
}

bool header_edit_same_name(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
			return false;
	return true;
}

/* name is prefix, or prefix followed by '-' and anything. */
static bool in_family(const char *name, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && header_edit_same_name(name, n, prefix, n) &&
	       (len == n || name[n] == '-');
}

int header_edit_family(const char *name, size_t len)
{
	static const char ar[] = "Authentication-Results", aar[] = "ARC-Authentication-Results";

	if (header_edit_same_name(name, len, ar, sizeof(ar) - 1))
		return 1;
	if (header_edit_same_name(name, len, aar, sizeof(aar) - 1))
		return 2;
	if (in_family(name, len, "X-Spam") || in_family(name, len, "X-Limristem"))
		return 3;
	return 0;
}

/* Whether field i goes, and why. */
static bool decide(const struct header_edit_field *f, size_t name_len, const char *our_id,
		   enum header_edit_why *why_r, enum authres_claim *claim_r)
{
	int family = header_edit_family(f->name, name_len);

	*claim_r = AUTHRES_CLAIM_NONE;
	switch (family) {
	case 1:
	case 2:
		*claim_r = authres_claim(f->value, f->value_len, family == 2, our_id);
		*why_r = family == 1 ? HEADER_EDIT_FORGED_RESULTS : HEADER_EDIT_FORGED_ARC_RESULTS;
		return *claim_r != AUTHRES_CLAIM_NONE;
	case 3:
		*why_r = HEADER_EDIT_FOREIGN_VERDICT;
		return true;
	default:
		return false;
	}
}

/* 1-based index of fields[i] among the fields of its name. */
static unsigned index_of(const struct header_edit_field *fields, size_t i, size_t name_len)
{
	unsigned index = 1;

	for (size_t k = 0; k < i; k++)
		index += header_edit_same_name(fields[k].name, header_edit_name_length(fields[k].name),
					       fields[i].name, name_len);
	return index;
}

void header_edit_plan(const struct header_edit_field *fields, size_t count, const char *our_id,
		      struct header_plan *plan_r)
{
	struct header_plan *p = plan_r;

	memset(p, 0, sizeof(*p));
	p->field_count = count;
	if (count == 0)
		return;
	p->deleted = xcalloc(count, sizeof(*p->deleted));
	/* last field first: a deletion never moves a field still to delete */
	for (size_t i = count; i-- > 0; ) {
		size_t name_len = header_edit_name_length(fields[i].name);
		enum header_edit_why why;
		enum authres_claim claim;

		if (!decide(&fields[i], name_len, our_id, &why, &claim))
			continue;
		if (p->deletions == NULL)
			p->deletions = xcalloc(i + 1, sizeof(*p->deletions));
		p->deletions[p->count++] = (struct header_deletion){
			.field = i, .name = fields[i].name, .name_len = name_len,
			.index = index_of(fields, i, name_len), .why = why, .claim = claim,
		};
		p->deleted[i] = true;
		p->forged_results += why == HEADER_EDIT_FORGED_RESULTS;
		p->forged_arc_results += why == HEADER_EDIT_FORGED_ARC_RESULTS;
		p->foreign_verdicts += why == HEADER_EDIT_FOREIGN_VERDICT;
	}
}

void header_plan_release(struct header_plan *plan)
{
	free(plan->deletions);
	free(plan->deleted);
	memset(plan, 0, sizeof(*plan));
}
