/*
 * test_arc.c - ARC chain validation against the ValiMail conformance suite.
 *
 * Reads ../shared/conformance/arc/arc-draft-validation-tests.yml in place
 * (LIMRISTEM_SHARED_DIR overrides the shared directory), runs every case
 * through arc_verify_*() with the case's TXT records behind an in-process
 * key lookup, and compares the chain status with the case's cv. A case
 * that gives another result must be on known_differences below, with the
 * reason; one on that list that gives the expected result fails the test
 * too, so the list cannot go stale.
 *
 * The signing suite (arc-draft-sign-tests.yml) is used from the other
 * side: each case's expected ARC set, added to its message, must validate
 * (pass, or fail where the new seal says cv=fail), which checks our
 * canonicalization against the one that made those signatures.
 *
 * ARC_TEST_VERBOSE=1 prints every case with our result and reason.
 */
#include "autoconfig.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include <yaml.h>

#include "common/strbuf.h"
#include "mailauth/arc_verify.h"
#include "mailauth/msgsplit.h"
#include "unit.h"
#include "yaml_map.h"
#include "common/xalloc.h"

#ifndef LR_SHARED_DIR
#define LR_SHARED_DIR "../shared"
#endif

/*
 * Cases whose expected cv we do not give, each with the reason. The suite
 * follows draft-ietf-dmarc-arc-protocol-18; where RFC 8617 says otherwise
 * we follow the RFC. None of the cases below is such a draft/RFC
 * difference: in each, the suite's expectation disagrees with draft 18 and
 * RFC 8617 alike, and we do what both say.
 */
static const struct {
	const char *name;
	const char *why;
} known_differences[] = {
	/* The suite expects no cv at all ("cv: |" with an empty line) for
	 * chains whose seal already says cv=fail. Both draft 18 (5.2 step 2)
	 * and RFC 8617 (section 5.2 step 2: "If the Chain Validation Status
	 * of the highest instance value ARC Set is 'fail', then the Chain
	 * Validation Status is 'fail'"; step 3.3: cv MUST NOT be "fail") say
	 * the result is fail, so we answer fail. */
	{ "cv_fail_i1_as_cv_fail", "RFC 8617 5.2 steps 2, 3.3: cv=fail in the chain is fail, not empty" },
	{ "cv_fail_i2_as2_fail", "RFC 8617 5.2 step 2: newest cv=fail is fail, not empty" },
	{ "cv_fail_i2_as1_fail", "RFC 8617 5.2 step 3.3: cv=fail at i=1 is fail, not empty" },
	/* The AMS has no c=, so its canonicalization is simple/simple: RFC
	 * 8617 4.1.2 gives the AMS "the same syntax and semantics as the
	 * DKIM-Signature field", and RFC 6376 3.5 makes simple the default of
	 * c= for header and body (draft 18 says the same). The suite's
	 * signer hashed the header fields relaxed nonetheless (the signature
	 * verifies if we assume relaxed), so the signature cannot verify
	 * under the rules. A verifier that guessed relaxed would also accept
	 * fields a real simple signer never signed that way. */
	{ "ams_fields_c_na", "RFC 6376 3.5: no c= means simple/simple; the suite signed relaxed" },
};

struct txt_records {
	size_t count;
	char **names;		/* "selector._domainkey.domain" */
	char **values;
};

struct suite_case {
	char *name;
	char *message;
	char *cv;
	struct txt_records *txt;
};

struct suite {
	yaml_document_t docs[32];
	size_t doc_count;
	struct txt_records txt[32];
	struct suite_case *cases;
	size_t count, cap;
};

static const char *suite_path(const char *file, char *buf, size_t len)
{
	const char *dir = getenv("LIMRISTEM_SHARED_DIR");
	int n = snprintf(buf, len, "%s/conformance/arc/%s", dir && *dir ? dir : LR_SHARED_DIR, file);

	assert_true(n > 0 && (size_t)n < len);
	return buf;
}

/* The records as a DNS answer has them: one string per line of the YAML
 * value (the sign suite breaks p= across lines), joined. */
static void load_txt(yaml_document_t *doc, const yaml_node_t *map, struct txt_records *txt)
{
	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		char *value = yaml_scalar_dup(yaml_document_get_node(doc, p->value)), *w = value;
		for (const char *r = value; r != NULL && *r != '\0'; r++)
			if (*r != '\n' && *r != '\r')
				*w++ = *r;
		if (w != NULL)
			*w = '\0';
		txt->names = xrealloc(txt->names, (txt->count + 1) * sizeof(char *));
		txt->values = xrealloc(txt->values, (txt->count + 1) * sizeof(char *));
		txt->names[txt->count] = yaml_scalar_dup(yaml_document_get_node(doc, p->key));
		txt->values[txt->count] = value;
		txt->count++;
	}
}

/* Adds a case, naming a second one of the same name "name#2" (the suite
 * repeats four names within one mapping). */
static void add_case(struct suite *s, char *name, char *message, char *cv, struct txt_records *txt)
{
	size_t same = 0;

	for (size_t i = 0; i < s->count; i++)
		if (strncmp(s->cases[i].name, name, strlen(name)) == 0 &&
		    (s->cases[i].name[strlen(name)] == '\0' || s->cases[i].name[strlen(name)] == '#'))
			same++;
	if (same > 0) {
		struct strbuf renamed = STRBUF_INIT;
		strbuf_appendf(&renamed, "%s#%zu", name, same + 1);
		free(name);
		name = strbuf_detach(&renamed);
	}
	s->cases = xgrow(s->cases, &s->cap, s->count + 1, sizeof(*s->cases));
	s->cases[s->count++] = (struct suite_case){ name, message, cv, txt };
}

static void load_suite(const char *file, struct suite *s, const char *const *fields)
{
	char path[4096];
	FILE *f = fopen(suite_path(file, path, sizeof(path)), "rb");
	yaml_parser_t parser;

	if (f == NULL)
		fail_msg("cannot open %s (set LIMRISTEM_SHARED_DIR to the shared directory)", path);
	memset(s, 0, sizeof(*s));
	assert_int_equal(yaml_parser_initialize(&parser), 1);
	yaml_parser_set_input_file(&parser, f);
	for (;;) {
		assert_true(s->doc_count < N_ELEMENTS(s->docs));
		yaml_document_t *doc = &s->docs[s->doc_count];
		if (yaml_parser_load(&parser, doc) != 1)
			fail_msg("%s: YAML error: %s", path, parser.problem ? parser.problem : "?");
		const yaml_node_t *root = yaml_document_get_root_node(doc);
		if (root == NULL) {
			yaml_document_delete(doc);
			break;
		}
		struct txt_records *txt = &s->txt[s->doc_count++];
		load_txt(doc, yaml_map_get(doc, root, "txt-records"), txt);
		const yaml_node_t *tests = yaml_map_get(doc, root, "tests");
		assert_non_null(tests);
		yaml_node_pair_t *p = tests->data.mapping.pairs.start;
		for (; p < tests->data.mapping.pairs.top; p++) {
			const yaml_node_t *test = yaml_document_get_node(doc, p->value);
			add_case(s, yaml_scalar_dup(yaml_document_get_node(doc, p->key)),
				 yaml_scalar_dup(yaml_map_get(doc, test, fields[0])),
				 yaml_scalar_dup(yaml_map_get(doc, test, fields[1])), txt);
		}
	}
	yaml_parser_delete(&parser);
	fclose(f);
}

static void free_suite(struct suite *s)
{
	for (size_t i = 0; i < s->count; i++) {
		free(s->cases[i].name);
		free(s->cases[i].message);
		free(s->cases[i].cv);
	}
	free(s->cases);
	for (size_t d = 0; d < s->doc_count; d++) {
		for (size_t i = 0; i < s->txt[d].count; i++) {
			free(s->txt[d].names[i]);
			free(s->txt[d].values[i]);
		}
		free(s->txt[d].names);
		free(s->txt[d].values);
		yaml_document_delete(&s->docs[d]);
	}
}

static enum dkim_key_status fake_lookup(void *ctx, const char *selector, const char *domain, char **txt_r)
{
	const struct txt_records *txt = ctx;
	struct strbuf name = STRBUF_INIT;

	strbuf_appendf(&name, "%s._domainkey.%s", selector, domain);
	for (size_t i = 0; i < txt->count; i++)
		if (strcasecmp(txt->names[i], strbuf_str(&name)) == 0) {
			*txt_r = xstrdup(txt->values[i]);
			strbuf_release(&name);
			return DKIM_KEY_OK;
		}
	strbuf_release(&name);
	return DKIM_KEY_NOTFOUND;
}

static void on_header(void *ctx, const char *name, size_t name_len, const char *value, size_t value_len)
{
	char *n = xstrndup(name, name_len), *v = xstrndup(value, value_len);

	arc_verify_header(ctx, n, v);
	free(n);
	free(v);
}

/* Runs a whole message through a verifier; the body goes in two chunks
 * split in the middle, as a milter would hand it over in pieces. */
static enum arc_status verify_message(const char *msg, struct txt_records *txt, struct strbuf *reason)
{
	struct arc_options options = { .key_lookup = fake_lookup, .key_ctx = txt };
	struct arc_verify *v = arc_verify_new(&options);
	size_t len = strlen(msg), body = msgsplit(msg, len, on_header, v), half = body + (len - body) / 2;

	arc_verify_body(v, msg + body, half - body);
	arc_verify_body(v, msg + half, len - half);
	arc_verify_end(v);
	const struct arc_result *r = arc_verify_result(v);
	enum arc_status status = r->status;
	strbuf_append_str(reason, r->reason);
	arc_verify_free(&v);
	assert_null(v);
	return status;
}

static const char *known_difference(const char *name)
{
	for (size_t i = 0; i < N_ELEMENTS(known_differences); i++)
		if (strcmp(known_differences[i].name, name) == 0)
			return known_differences[i].why;
	return NULL;
}

static void lowercase(char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

static void test_validation_suite(void **state)
{
	static const char *const fields[] = { "message", "cv" };
	struct suite s;
	size_t good = 0, unexpected = 0, known_count = 0;

	load_suite("arc-draft-validation-tests.yml", &s, fields);
	assert_true(s.count > 100);
	for (size_t i = 0; i < s.count; i++) {
		struct suite_case *c = &s.cases[i];
		struct strbuf reason = STRBUF_INIT;
		assert_non_null(c->message);
		assert_non_null(c->cv);
		lowercase(c->cv);
		const char *got = arc_status_name(verify_message(c->message, c->txt, &reason));
		bool ok = strcmp(got, c->cv) == 0;
		const char *known = known_difference(c->name);
		good += ok;
		if (getenv("ARC_TEST_VERBOSE") != NULL)
			printf("  %-34s %-5s %s\n", c->name, got, strbuf_str(&reason));
		if (!ok && known == NULL) {
			printf("  UNEXPECTED %s: got %s (%s), want \"%s\"\n", c->name, got,
			       strbuf_str(&reason), c->cv);
			unexpected++;
		} else if (ok && known != NULL) {
			printf("  LISTED BUT PASSES %s: remove it from known_differences\n", c->name);
			unexpected++;
		} else if (!ok) {
			known_count++;
			printf("  known difference %s: got %s, suite wants \"%s\": %s\n", c->name, got,
			       c->cv, known);
		}
		strbuf_release(&reason);
	}
	printf("arc conformance (validation): %zu of %zu cases give the suite's cv, "
	       "%zu known differences, %zu unexpected\n", good, s.count, known_count, unexpected);
	free_suite(&s);
	assert_int_equal(unexpected, 0);
}

/* The suite's layout of a signature ("a=...;\nb=...\n...") as the field
 * its signer made: a line break after a ';' was a fold, one inside a value
 * (b= broken at 72 columns) only presentation, so the lines are joined
 * there. The seals over these sets only verify with that reading. */
static void append_folded(struct strbuf *msg, const char *name, const char *value)
{
	size_t len = strlen(value);

	while (len > 0 && (value[len - 1] == '\n' || value[len - 1] == ' '))
		len--;
	strbuf_appendf(msg, "%s: ", name);
	for (size_t i = 0; i < len; i++) {
		if (value[i] != '\n')
			strbuf_append_char(msg, value[i]);
		else if (i > 0 && value[i - 1] == ';')
			strbuf_append_str(msg, "\r\n ");
	}
	strbuf_append_str(msg, "\r\n");
}

static char *field(yaml_document_t *doc, const yaml_node_t *test, const char *key)
{
	return yaml_scalar_dup(yaml_map_get(doc, test, key));
}

/* Adds the case's expected ARC set to its message and validates the
 * result. Returns false when the case adds no set (a failing chain). */
static bool check_sign_case(yaml_document_t *doc, const yaml_node_t *test, const char *name,
			    struct txt_records *txt)
{
	char *as = field(doc, test, "AS"), *ams = field(doc, test, "AMS");
	char *aar = field(doc, test, "AAR"), *message = field(doc, test, "message");
	struct strbuf msg = STRBUF_INIT, reason = STRBUF_INIT;
	bool sealed = as != NULL && *as != '\0';

	if (sealed) {
		append_folded(&msg, "ARC-Seal", as);
		append_folded(&msg, "ARC-Message-Signature", ams);
		append_folded(&msg, "ARC-Authentication-Results", aar);
		strbuf_append_str(&msg, message);
		enum arc_status want = strstr(as, "cv=fail") ? ARC_STATUS_FAIL : ARC_STATUS_PASS;
		enum arc_status got = verify_message(msg.data, txt, &reason);
		if (got != want)
			fail_msg("sign suite %s: our validation says %s (%s), want %s", name,
				 arc_status_name(got), strbuf_str(&reason), arc_status_name(want));
	}
	free(as);
	free(ams);
	free(aar);
	free(message);
	strbuf_release(&msg);
	strbuf_release(&reason);
	return sealed;
}

static void test_sign_suite(void **state)
{
	static const char *const fields[] = { "message", "t" };
	struct suite s;
	size_t checked = 0, skipped = 0;

	load_suite("arc-draft-sign-tests.yml", &s, fields);
	for (size_t d = 0; d < s.doc_count; d++) {
		yaml_document_t *doc = &s.docs[d];
		const yaml_node_t *tests = yaml_map_get(doc, yaml_document_get_root_node(doc), "tests");
		yaml_node_pair_t *p = tests->data.mapping.pairs.start;
		for (; p < tests->data.mapping.pairs.top; p++) {
			char *name = yaml_scalar_dup(yaml_document_get_node(doc, p->key));
			if (check_sign_case(doc, yaml_document_get_node(doc, p->value), name, &s.txt[d]))
				checked++;
			else
				skipped++;
			free(name);
		}
	}
	printf("arc conformance (signing suite, validated): %zu of %zu new ARC sets validate as "
	       "expected, %zu cases add none\n", checked, checked, skipped);
	free_suite(&s);
	assert_true(checked > 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validation_suite),
		cmocka_unit_test(test_sign_suite),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
