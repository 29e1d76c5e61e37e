/*
 * fuzz_header_edit.c - libFuzzer target for the milter's header handling
 * as a whole: a message's header block in, what the milter deletes and
 * adds out.
 *
 * Input: one byte choosing our authserv-id (short ones make matches
 * frequent), then a header block: lines split at LF, a line starting with
 * SP or HT continues the field before it, "name:value" starts a field,
 * anything else is skipped, an empty line ends the block.
 *
 * The plan of header_edit_plan() is applied the way Postfix applies
 * smfi_chgheader(name, index, NULL), renumbering after each deletion, and
 * then our Authentication-Results and trace go on top, as callbacks.c
 * adds them. Invariants (abort on failure):
 *  - every deletion finds its field, and it is the field the plan meant;
 *  - what is left is exactly the fields a reference reading of the rule
 *    keeps, in their order: no Authentication-Results or
 *    ARC-Authentication-Results claiming our id (strict parse; or parse
 *    failed and our id is a token once comments are dropped; or a token
 *    before the first ';' (second for an AAR) of the raw text), no X-Spam*
 *    or X-Limristem* field, and nothing else deleted. The reference here is
 *    written apart from authres_claim(): it builds each view as a string
 *    and splits it, where the library streams;
 *  - after our fields are added, the only field claiming our id is ours,
 *    on top, and the only X-Limristem field is our trace.
 */
#include "autoconfig.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mailauth/authres.h"
#include "milter/header_edit.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

#define FIELDS_MAX 128

static const char *const ids[] = { "mx.limristem.example", "MX.Limristem.Example.", "a", "a.b" };

struct field {
	char *name;
	char *value;
	size_t value_len;
};

/* ---- the reference reading of the rule --------------------------------- */

static bool ref_token_char(unsigned char c)
{
	static const char specials[] = "()<>@,;:\\\"/[]?=";

	if (c >= 0x80)
		return true;
	if (c <= ' ' || c == 0x7f)
		return false;
	for (const char *s = specials; *s; s++)
		if (*s == (char)c)
			return false;
	return true;
}

static bool ref_skipped(unsigned char c)
{
	return c == 0x7f || (c < 0x20 && c != '\t' && c != '\r' && c != '\n');
}

/* Appends c to the view: token characters as they are, separators as a
 * space, skipped characters not at all. */
static void view_put(char *view, size_t *n, unsigned char c)
{
	if (ref_skipped(c))
		return;
	view[(*n)++] = ref_token_char(c) ? (char)c : ' ';
}

static bool ref_same_id(const char *tok, size_t len, const char *id)
{
	size_t id_len = strlen(id);

	if (id_len > 0 && id[id_len - 1] == '.')
		id_len--;
	if (len > 0 && tok[len - 1] == '.')
		len--;
	if (id_len == 0 || len != id_len)
		return false;
	for (size_t i = 0; i < len; i++) {
		char a = tok[i], b = id[i];

		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (b >= 'A' && b <= 'Z')
			b = (char)(b - 'A' + 'a');
		if (a != b)
			return false;
	}
	return true;
}

static bool view_has_id(const char *view, size_t n, const char *id)
{
	size_t start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && view[i] != ' ')
			continue;
		if (i > start && ref_same_id(view + start, i - start, id))
			return true;
		start = i + 1;
	}
	return false;
}

/* The field's text after quoted-pairs: each character, and whether it was
 * escaped (escaped ones are never structure). */
static size_t resolve_pairs(const char *v, size_t len, char *out, bool *escaped)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		escaped[n] = v[i] == '\\' && i + 1 < len;
		if (escaped[n])
			i++;
		out[n++] = v[i];
	}
	return n;
}

static bool ref_without_comments(const char *v, size_t len, const char *id)
{
	char *text = malloc(len + 1), *view = malloc(len + 1);
	bool *escaped = malloc(len + 1), quoted = false, found;
	size_t n = resolve_pairs(v, len, text, escaped), m = 0, depth = 0;

	assert(text && view && escaped);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];

		if (depth > 0) {	/* inside a comment: escaped characters are text */
			if (!escaped[i] && c == '(')
				depth++;
			else if (!escaped[i] && c == ')')
				depth--;
			continue;
		}
		if (!escaped[i] && c == '"') {
			quoted = !quoted;
			view[m++] = ' ';
		} else if (!escaped[i] && c == '(' && !quoted) {
			depth = 1;
			view[m++] = ' ';
		} else {
			view_put(view, &m, c);
		}
	}
	found = view_has_id(view, m, id);
	free(text);
	free(view);
	free(escaped);
	return found;
}

static bool ref_prefix(const char *v, size_t len, bool aar, const char *id)
{
	char *text = malloc(len + 1), *view = malloc(len + 1);
	bool *escaped = malloc(len + 1), found;
	size_t end = len, semis = 0, n, m = 0;

	assert(text && view && escaped);
	for (size_t i = 0; i < len; i++)
		if (v[i] == ';' && ++semis == (aar ? 2u : 1u)) {
			end = i;
			break;
		}
	n = resolve_pairs(v, end, text, escaped);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];

		if (!escaped[i] && (c == '(' || c == ')' || c == '"'))
			view[m++] = ' ';
		else
			view_put(view, &m, c);
	}
	found = view_has_id(view, m, id);
	free(text);
	free(view);
	free(escaped);
	return found;
}

static bool ref_claims(const struct field *f, bool aar, const char *id)
{
	char parsed[AUTHRES_ID_MAX + 1];
	unsigned instance;
	int rc = aar ? authres_parse_aar_id(f->value, f->value_len, &instance, parsed, NULL)
		     : authres_parse_id(f->value, f->value_len, parsed, NULL);

	if (rc == 0 && authres_id_equal(parsed, id))
		return true;
	if (rc != 0 && ref_without_comments(f->value, f->value_len, id))
		return true;
	return ref_prefix(f->value, f->value_len, aar, id);
}

static char ref_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* name (white space before the colon dropped) is want, or with family
 * also want followed by '-' and anything. */
static bool ref_name_is(const char *name, const char *want, bool family)
{
	size_t len = strlen(name), wlen = strlen(want);

	while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t'))
		len--;
	if (len < wlen || (len > wlen && (!family || name[wlen] != '-')))
		return false;
	for (size_t i = 0; i < wlen; i++)
		if (ref_lower(name[i]) != ref_lower(want[i]))
			return false;
	return true;
}

static bool ref_must_delete(const struct field *f, const char *id)
{
	if (ref_name_is(f->name, "X-Spam", true) || ref_name_is(f->name, "X-Limristem", true))
		return true;
	if (ref_name_is(f->name, "Authentication-Results", false))
		return ref_claims(f, false, id);
	if (ref_name_is(f->name, "ARC-Authentication-Results", false))
		return ref_claims(f, true, id);
	return false;
}

/* ---- the header block ---------------------------------------------------- */

static size_t split_block(const char *p, const char *end, struct field *fields)
{
	size_t count = 0;

	while (p < end && count < FIELDS_MAX) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *colon;

		eol = eol ? eol : end;
		if (eol == p)
			break;		/* the empty line: end of the header block */
		colon = memchr(p, ':', (size_t)(eol - p));
		if (colon != NULL && colon > p && *p != ' ' && *p != '\t') {
			const char *vend = eol;

			/* continuation lines belong to the value, LF and all */
			while (vend < end && vend + 1 < end && (vend[1] == ' ' || vend[1] == '\t')) {
				const char *next = memchr(vend + 1, '\n', (size_t)(end - vend - 1));
				vend = next ? next : end;
			}
			fields[count].name = strndup(p, (size_t)(colon - p));
			fields[count].value_len = (size_t)(vend - colon - 1);
			fields[count].value = malloc(fields[count].value_len + 1);
			assert(fields[count].name && fields[count].value);
			memcpy(fields[count].value, colon + 1, fields[count].value_len);
			fields[count].value[fields[count].value_len] = '\0';
			count++;
			eol = vend;
		}
		p = eol < end ? eol + 1 : end;
	}
	return count;
}

/* Postfix's deletion: the index-th field whose name matches, counted now. */
static size_t mta_delete(size_t *list, size_t *n, const struct field *fields,
			 const struct header_deletion *d)
{
	unsigned index = d->index;

	for (size_t i = 0; i < *n; i++) {
		const char *name = fields[list[i]].name;

		if (!header_edit_same_name(name, header_edit_name_length(name), d->name, d->name_len) ||
		    --index > 0)
			continue;
		size_t gone = list[i];
		memmove(&list[i], &list[i + 1], (*n - i - 1) * sizeof(list[0]));
		(*n)--;
		return gone;
	}
	assert(!"a deletion found no field");
	return 0;
}

/* Our fields on top, then nothing but them may claim our id or be ours. */
static void check_added(const struct field *fields, const size_t *list, size_t n, const char *id)
{
	static char ar[512], ar_name[] = "Authentication-Results", trace_name[] = "X-Limristem-Reputation",
		trace_value[] = " id=00000000000000000000000000000000; judged=good";
	struct field ours = { ar_name, ar, 0 }, trace = { trace_name, trace_value, 0 };

	assert(authres_build(id, NULL, 0, "\n\t", ar + 1, sizeof(ar) - 1, NULL) == 0);
	ar[0] = ' ';
	ours.value_len = strlen(ar);
	trace.value_len = strlen(trace.value);
	assert(ref_must_delete(&ours, id) && ref_must_delete(&trace, id));
	for (size_t i = 0; i < n; i++)
		assert(!ref_must_delete(&fields[list[i]], id));
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct field fields[FIELDS_MAX];
	struct header_edit_field in[FIELDS_MAX];
	size_t list[FIELDS_MAX], n, count;
	struct header_plan plan;
	const char *id;

	if (size < 1)
		return 0;
	id = ids[data[0] % (sizeof(ids) / sizeof(ids[0]))];
	count = split_block((const char *)data + 1, (const char *)data + size, fields);
	for (size_t i = 0; i < count; i++) {
		in[i] = (struct header_edit_field){ fields[i].name, fields[i].value, fields[i].value_len };
		list[i] = i;
	}
	header_edit_plan(in, count, id, &plan);
	n = count;
	for (size_t k = 0; k < plan.count; k++) {
		size_t gone = mta_delete(list, &n, fields, &plan.deletions[k]);

		assert(gone == plan.deletions[k].field && plan.deleted[gone]);
	}
	assert(n == count - plan.count);
	for (size_t i = 0, kept = 0; i < count; i++) {
		bool must = ref_must_delete(&fields[i], id);

		assert(plan.deleted[i] == must);
		if (!must)
			assert(list[kept++] == i);
	}
	check_added(fields, list, n, id);
	header_plan_release(&plan);
	for (size_t i = 0; i < count; i++) {
		free(fields[i].name);
		free(fields[i].value);
	}
	return 0;
}
