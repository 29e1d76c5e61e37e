/*
 * header_edit.h - which incoming header fields the milter deletes before
 * it adds its own, as a plan an MTA applies one deletion at a time.
 *
 * Deleted are the fields only we may write:
 *  - Authentication-Results and ARC-Authentication-Results that claim our
 *    authserv-id (authres_claim(): parsed, malformed or in the raw text
 *    before the first ';'), RFC 8601 section 5;
 *  - X-Spam and X-Spam-*, X-Limristem and X-Limristem-*: a spammer's
 *    "X-Spam-Status: No", or a reputation trace that would make learning
 *    blame someone else.
 * Nothing else is deleted.
 *
 * Field names compare as the MTA compares them (Postfix's milter code):
 * ASCII case-insensitive, white space before the colon (RFC 5322 4.5.8)
 * not part of the name. A deletion names a field by its name and its
 * 1-based index among the fields of that name; the MTA renumbers the
 * later ones after each deletion, so the plan lists deletions from the
 * last field of the message to the first: every deletion is then of a
 * field no earlier deletion has moved. Apply them in order, all before
 * any field is added (an added field of the same name would shift the
 * indices).
 *
 * Pure: no libmilter, no I/O; the planner computes the indices itself
 * from the order of the fields. Time is linear in the fields' bytes plus
 * fields x deletions for the indices (the milter records at most
 * MESSAGE_HEADERS_MAX fields and refuses a message with more).
 */
#ifndef LIMRISTEM_MILTER_HEADER_EDIT_H
#define LIMRISTEM_MILTER_HEADER_EDIT_H

#include <stdbool.h>
#include <stddef.h>

#include "mailauth/authres.h"

/* A header field as received: name without the colon, value as it
 * follows the colon (leading space, folds and all). */
struct header_edit_field {
	const char *name;
	const char *value;
	size_t value_len;
};

enum header_edit_why {
	HEADER_EDIT_FORGED_RESULTS,	/* Authentication-Results claiming our id */
	HEADER_EDIT_FORGED_ARC_RESULTS,	/* ARC-Authentication-Results claiming it */
	HEADER_EDIT_FOREIGN_VERDICT,	/* X-Spam*, X-Limristem* */
};

struct header_deletion {
	size_t field;			/* its position in the input */
	const char *name;		/* the input's name ... */
	size_t name_len;		/* ... without white space before the colon */
	unsigned index;			/* 1-based among fields of that name, when applied */
	enum header_edit_why why;
	enum authres_claim claim;	/* for the two kinds of results */
};

struct header_plan {
	struct header_deletion *deletions;	/* in the order to apply them */
	size_t count;
	bool *deleted;			/* per input field */
	size_t field_count;
	unsigned forged_results;	/* deletions of each kind */
	unsigned forged_arc_results;
	unsigned foreign_verdicts;
};

/* Plans the deletions for fields[0..count) against our_id (the
 * authserv-id we write). *plan_r is always set; release it. */
void header_edit_plan(const struct header_edit_field *fields, size_t count, const char *our_id,
		      struct header_plan *plan_r);
void header_plan_release(struct header_plan *plan);

/* Why a field named name[0..len) may be ours to delete, regardless of its
 * value: 1 Authentication-Results, 2 ARC-Authentication-Results, 3 a
 * verdict family (X-Spam*, X-Limristem*), 0 none. */
int header_edit_family(const char *name, size_t len);
/* The length of name without white space before the colon. */
size_t header_edit_name_length(const char *name);
/* Whether two names are the same field name, as the MTA compares them. */
bool header_edit_same_name(const char *a, size_t alen, const char *b, size_t blen);

#endif
