/*
 * test_header_edit.c - which incoming fields the milter deletes, and a
 * plan that stays right when the MTA renumbers after each deletion: the
 * plan is applied here the way Postfix applies smfi_chgheader(name,
 * index, NULL), and the fields left are compared with what must be left.
 */
#include "autoconfig.h"

#include <stdio.h>

#include "milter/header_edit.h"
#include "unit.h"

#define OURS "mx.limristem.example"
#define MAX_FIELDS 16

struct field {
	const char *name, *value;
};

/* Deletes (name, index) from list[0..*count) as Postfix does: the
 * index-th field whose name matches, counted at this moment. */
static bool mta_delete(const struct field **list, size_t *count, const char *name,
		       size_t name_len, unsigned index)
{
	for (size_t i = 0; i < *count; i++) {
		const char *n = list[i]->name;

		if (!header_edit_same_name(n, header_edit_name_length(n), name, name_len) ||
		    --index > 0)
			continue;
		memmove(&list[i], &list[i + 1], (*count - i - 1) * sizeof(list[0]));
		(*count)--;
		return true;
	}
	return false;
}

/* Plans for fields[0..n), applies the plan, returns how many are left in
 * left_r (pointers into fields). */
static size_t plan_and_apply(const struct field *fields, size_t n, const struct field **left_r,
			     struct header_plan *plan)
{
	struct header_edit_field in[MAX_FIELDS];
	size_t left = n;

	for (size_t i = 0; i < n; i++) {
		in[i] = (struct header_edit_field){ fields[i].name, fields[i].value,
						    strlen(fields[i].value) };
		left_r[i] = &fields[i];
	}
	header_edit_plan(in, n, OURS, plan);
	for (size_t i = 0; i < plan->count; i++) {
		const struct header_deletion *d = &plan->deletions[i];

		assert_true(mta_delete(left_r, &left, d->name, d->name_len, d->index));
	}
	return left;
}

static void test_defect_two_forged_one_foreign(void **state)
{
	/* the outside review's message: the front-to-back deletion by
	 * original index removed the foreign field and kept a forged one */
	static const struct field fields[] = {
		{ "Received", " from x by y" },
		{ "Authentication-Results", " mx.limristem.example; dkim=pass header.d=bank.example" },
		{ "Authentication-Results", " mx.limristem.example; dkim=pass header.d=bank.example" },
		{ "Authentication-Results", " other.example; spf=pass smtp.mailfrom=a@b.example" },
		{ "X-Spam-Status", " No" },
		{ "Subject", " hi" },
		{ "x-spam-status", " No, score=-5" },
		{ "From", " a@b.example" },
	};
	const struct field *left[MAX_FIELDS];
	struct header_plan plan;
	size_t n = plan_and_apply(fields, N_ELEMENTS(fields), left, &plan);

	assert_int_equal(plan.count, 4);
	assert_int_equal(plan.forged_results, 2);
	assert_int_equal(plan.foreign_verdicts, 2);
	assert_int_equal(plan.forged_arc_results, 0);
	/* last field first, each with its index among its name */
	assert_int_equal(plan.deletions[0].field, 6);
	assert_int_equal(plan.deletions[0].index, 2);
	assert_int_equal(plan.deletions[1].field, 4);
	assert_int_equal(plan.deletions[1].index, 1);
	assert_int_equal(plan.deletions[2].field, 2);
	assert_int_equal(plan.deletions[2].index, 2);
	assert_int_equal(plan.deletions[3].field, 1);
	assert_int_equal(plan.deletions[3].index, 1);
	assert_int_equal(n, 4);
	assert_ptr_equal(left[0], &fields[0]);
	assert_ptr_equal(left[1], &fields[3]);
	assert_ptr_equal(left[2], &fields[5]);
	assert_ptr_equal(left[3], &fields[7]);
	for (size_t i = 0; i < N_ELEMENTS(fields); i++)
		assert_int_equal(plan.deleted[i], i == 1 || i == 2 || i == 4 || i == 6);
	header_plan_release(&plan);
	assert_null(plan.deleted);
}

static void test_interleaved_and_obsolete_names(void **state)
{
	/* foreign, forged, foreign, forged: only the forged go; a name with
	 * white space before the colon is the same name (RFC 5322 4.5.8) */
	static const struct field fields[] = {
		{ "Authentication-Results", " a.example; spf=pass" },
		{ "AUTHENTICATION-RESULTS", " MX.Limristem.Example.; dkim=pass" },
		{ "Authentication-Results ", " b.example; dkim=pass" },
		{ "Authentication-Results\t", " mx.limristem.example 0000000001; dkim=pass" },
		{ "ARC-Authentication-Results", " i=1; mx.limristem.example; arc=none" },
		{ "ARC-Authentication-Results", " i=2; lists.example; arc=pass" },
		{ "X-Spammer", " not ours to delete" },
		{ "X-Spam", " Yes" },
		{ "X-Limristem-Reputation", " id=00; judged=good" },
		{ "X-LIMRISTEM", " x" },
		{ "X-Limristemx", " not ours either" },
		{ "X-Spam-Level", " ****" },
	};
	const struct field *left[MAX_FIELDS];
	struct header_plan plan;
	size_t n = plan_and_apply(fields, N_ELEMENTS(fields), left, &plan);
	static const size_t kept[] = { 0, 2, 5, 6, 10 };

	assert_int_equal(plan.forged_results, 2);
	assert_int_equal(plan.forged_arc_results, 1);
	assert_int_equal(plan.foreign_verdicts, 4);
	assert_int_equal(n, N_ELEMENTS(kept));
	for (size_t i = 0; i < n; i++)
		assert_ptr_equal(left[i], &fields[kept[i]]);
	for (size_t i = 0; i < plan.count; i++) {
		const struct header_deletion *d = &plan.deletions[i];

		if (d->field == 3) {
			assert_int_equal(d->name_len, strlen("Authentication-Results"));
			assert_int_equal(d->index, 4);
			assert_int_equal(d->claim, AUTHRES_CLAIM_MALFORMED);
		}
		if (d->field == 1)
			assert_int_equal(d->claim, AUTHRES_CLAIM_PARSED);
	}
	header_plan_release(&plan);
}

static void test_nothing_to_delete(void **state)
{
	static const struct field fields[] = {
		{ "From", " a@b.example" },
		{ "Authentication-Results", " other.example; dkim=pass header.d=mx.limristem.example" },
	};
	const struct field *left[MAX_FIELDS];
	struct header_plan plan;

	assert_int_equal(plan_and_apply(fields, N_ELEMENTS(fields), left, &plan), 2);
	assert_int_equal(plan.count, 0);
	header_plan_release(&plan);
	header_edit_plan(NULL, 0, OURS, &plan);
	assert_int_equal(plan.count, 0);
	assert_null(plan.deleted);
	header_plan_release(&plan);
}

/* Many of one name, every other one forged: the indices hold. */
static void test_many_alternating(void **state)
{
	static struct field fields[MAX_FIELDS];
	const struct field *left[MAX_FIELDS];
	struct header_plan plan;
	size_t n;

	for (size_t i = 0; i < MAX_FIELDS; i++)
		fields[i] = (struct field){ "Authentication-Results",
					    i % 2 ? " mx.limristem.example; dkim=pass" : " x.example; none" };
	n = plan_and_apply(fields, MAX_FIELDS, left, &plan);
	assert_int_equal(n, MAX_FIELDS / 2);
	for (size_t i = 0; i < n; i++)
		assert_ptr_equal(left[i], &fields[2 * i]);
	header_plan_release(&plan);
}

/* Values that claim our id (or not), as A-R (aar 0) or AAR (aar 1). */
static const struct {
	const char *value;
	int aar;
	enum authres_claim want;
	const char *why;
} claims[] = {
	{ " mx.limristem.example; dkim=pass", 0, AUTHRES_CLAIM_PARSED, "plain" },
	{ " MX.LIMRISTEM.EXAMPLE.; dkim=pass", 0, AUTHRES_CLAIM_PARSED, "case and trailing dot" },
	{ " \"mx.limristem.example\"; dkim=pass", 0, AUTHRES_CLAIM_PARSED, "quoted-string id" },
	{ " \"mx.lim\\ristem.example\"; dkim=pass", 0, AUTHRES_CLAIM_PARSED, "quoted-pair in quotes" },
	{ " mx.limristem.example 0000000001; dkim=pass header.d=bank.example", 0,
	  AUTHRES_CLAIM_MALFORMED, "a 10-digit version (python3-authres reads it as ours)" },
	{ " (((((((((((((((((((((((((((((((((x))))))))))))))))))))))))))))))))) "
	  "mx.limristem.example; dkim=pass", 0, AUTHRES_CLAIM_MALFORMED, "33 nested comments" },
	{ " (unterminated mx.limristem.example; dkim=pass", 0, AUTHRES_CLAIM_PREFIX,
	  "hidden in an unterminated comment before the ';'" },
	{ " other.example (mx.limristem.example); dkim=pass", 0, AUTHRES_CLAIM_PREFIX,
	  "in a comment before the ';' of a field that parses as another id" },
	{ " other.example \"mx.limristem.example\"; dkim=pass", 0, AUTHRES_CLAIM_MALFORMED,
	  "a second, quoted id" },
	{ " mx\\.limristem.example; dkim=pass", 0, AUTHRES_CLAIM_MALFORMED,
	  "a quoted-pair outside quotes (not RFC 8601, resolved by some readers)" },
	{ " mx.limri\x01stem.example; dkim=pass", 0, AUTHRES_CLAIM_MALFORMED,
	  "a control character inside the id" },
	{ " \"x;y\" mx.limristem.example; dkim=pass", 0, AUTHRES_CLAIM_MALFORMED,
	  "a ';' in a quoted string before it" },
	{ " (;) mx.limristem.example 12345678901; dkim=pass", 0, AUTHRES_CLAIM_MALFORMED,
	  "a ';' in a comment before it" },
	{ " i=1; mx.limristem.example; arc=pass", 1, AUTHRES_CLAIM_PARSED, "AAR" },
	{ " i=1; mx.limristem.example 0000000001; arc=pass", 1, AUTHRES_CLAIM_MALFORMED,
	  "AAR with a 10-digit version" },
	{ " i=77; mx.limristem.example; arc=pass", 1, AUTHRES_CLAIM_MALFORMED, "AAR instance 77" },
	{ " i=1; lists.example (mx.limristem.example); arc=pass", 1, AUTHRES_CLAIM_PREFIX,
	  "AAR: in a comment before the second ';'" },
	/* not ours */
	{ " other.example; dkim=pass header.d=mx.limristem.example", 0, AUTHRES_CLAIM_NONE,
	  "our name as a property of another's results" },
	{ " mx.limristem.example.evil; dkim=pass", 0, AUTHRES_CLAIM_NONE, "a longer name" },
	{ " limristem.example; dkim=pass", 0, AUTHRES_CLAIM_NONE, "a parent" },
	{ " mx.limristem.example..; dkim=pass", 0, AUTHRES_CLAIM_NONE, "two trailing dots" },
	{ " 0mx.limristem.example 1; dkim=pass", 0, AUTHRES_CLAIM_NONE, "glued to a digit" },
	{ " broken 1x; dkim=pass (mx.limristem.example)", 0, AUTHRES_CLAIM_NONE,
	  "malformed, ours only in a comment after the ';'" },
	{ " i=1; lists.example; arc=pass header.d=mx.limristem.example", 1, AUTHRES_CLAIM_NONE,
	  "AAR of another" },
	{ "", 0, AUTHRES_CLAIM_NONE, "empty" },
};

static void test_claims(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(claims); i++) {
		enum authres_claim got = authres_claim(claims[i].value, strlen(claims[i].value),
						       claims[i].aar, OURS);

		if (got != claims[i].want)
			fail_msg("case %zu (%s): %s, want %s", i, claims[i].why,
				 authres_claim_name(got), authres_claim_name(claims[i].want));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defect_two_forged_one_foreign),
		cmocka_unit_test(test_interleaved_and_obsolete_names),
		cmocka_unit_test(test_nothing_to_delete),
		cmocka_unit_test(test_many_alternating),
		cmocka_unit_test(test_claims),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
