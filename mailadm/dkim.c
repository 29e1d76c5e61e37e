/*
 * dkim.c - mailadm dkim keygen|list|dns|rotate|activate|retire.
 *
 * A key's life, with no window in which mail goes unsigned:
 *   keygen/rotate  a new key, "pending": published (dkim dns), not signing
 *   activate       once its TXT record resolves with this key: "active",
 *                  signing; the key it replaces becomes "retiring"
 *   retire         a retiring key is no longer published ("retired")
 * Each algorithm (rsa-sha256, ed25519-sha256) has at most one active key
 * per domain, so RSA and Ed25519 sign side by side (RFC 8463).
 */
#include "autoconfig.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/dns.h"
#include "common/keyfile.h"
#include "common/number.h"
#include "mailadm/dkim_keypair.h"
#include "mailadm/nouns.h"
#include "mailadm/output.h"
#include "mailadm/validate.h"

#define SELECTOR_MAX 63
#define PATH_MAX_LEN 4096

static const struct field list_fields[] = {
	{ "domain", FIELD_TEXT }, { "selector", FIELD_TEXT }, { "algorithm", FIELD_TEXT },
	{ "bits", FIELD_NUMBER }, { "state", FIELD_TEXT }, { "created_at", FIELD_TEXT },
	{ "activated_at", FIELD_TEXT }, { "key_file", FIELD_TEXT },
};

struct key_row {
	char selector[SELECTOR_MAX + 1];
	char algorithm[16];
	char state[16];
	char public_key[DKIM_PUBLIC_MAX];
	char path[PATH_MAX_LEN];
	unsigned bits;
	bool found;
};

static int read_key_row(const struct db_row *row, void *arg)
{
	struct key_row *k = arg;
	long long bits;

	snprintf(k->selector, sizeof(k->selector), "%s", row->values[0]);
	snprintf(k->algorithm, sizeof(k->algorithm), "%s", row->values[1]);
	snprintf(k->state, sizeof(k->state), "%s", row->values[2]);
	snprintf(k->public_key, sizeof(k->public_key), "%s", row->values[3]);
	snprintf(k->path, sizeof(k->path), "%s", row->values[4]);
	k->bits = row->values[5] && number_parse_str(row->values[5], 0, 65536, &bits) == NUMBER_OK
		  ? (unsigned)bits : 0;
	k->found = true;
	return 1;
}

static int find_key(struct cli *cli, const char *domain, const char *selector, struct key_row *k)
{
	int ret;

	memset(k, 0, sizeof(*k));
	ret = db_query(cli->db, "SELECT selector, algorithm, state, public_key, key_path, bits "
		       "FROM dkim_keys WHERE domain = ? AND selector = ?",
		       (struct db_param[]){ DB_STR(domain), DB_STR(selector) }, 2, read_key_row, k);
	if (ret != DB_OK)
		return cli_db_fail(cli, ret, selector);
	if (!k->found)
		return cli_fail(cli, EXIT_NOT_FOUND, "%s has no DKIM key with selector \"%s\"", domain,
				selector);
	return EXIT_OK;
}

static int valid_selector(struct cli *cli, const char *s)
{
	const char *why;

	if (strlen(s) > SELECTOR_MAX || domain_check(s, strlen(s), 0, &why) < 0)
		return cli_fail(cli, EXIT_BAD_INPUT, "\"%s\": a selector is a lowercase DNS label "
				"(letters, digits, '-')", s);
	for (const char *p = s; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			return cli_fail(cli, EXIT_BAD_INPUT, "\"%s\": write the selector in lowercase", s);
	return EXIT_OK;
}

/* --- creating keys -------------------------------------------------------- */

struct new_key {
	char domain[ADDR_DOMAIN_MAX + 1];
	char selector[SELECTOR_MAX + 1];
	bool ed25519;
	unsigned bits;
	char path[PATH_MAX_LEN];
	struct dkim_keypair key;
};

/* Makes dir (and the domain's directory under it) mode 0750, group group. */
static int make_key_dir(struct cli *cli, const char *dir, const char *group)
{
	struct group *gr = getgrnam(group);

	if (gr == NULL)
		return cli_fail(cli, EXIT_FAILURE_OTHER, "the key group \"%s\" does not exist "
				"(groupadd %s, or set mailadm.dkim_key_group)", group, group);
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		return cli_fail(cli, EXIT_FAILURE_OTHER, "%s: %s", dir, strerror(errno));
	if (chown(dir, (uid_t)-1, gr->gr_gid) < 0 || chmod(dir, 0750) < 0)
		return cli_fail(cli, EXIT_FAILURE_OTHER, "%s: %s", dir, strerror(errno));
	return EXIT_OK;
}

/* "rsa-20261123", then "rsa-20261123-2" ... until one is free. */
static void default_selector(struct cli *cli, struct new_key *k)
{
	char date[16];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y%m%d", &tm);
	for (int n = 1; n < 100; n++) {
		if (n == 1)
			snprintf(k->selector, sizeof(k->selector), "%s-%s", k->ed25519 ? "ed" : "rsa", date);
		else
			snprintf(k->selector, sizeof(k->selector), "%s-%s-%d", k->ed25519 ? "ed" : "rsa",
				 date, n);
		if (count_where(cli, "SELECT COUNT(*) FROM dkim_keys WHERE domain = ? AND selector = ?",
				(struct db_param[]){ DB_STR(k->domain), DB_STR(k->selector) }, 2) == 0)
			return;
	}
}

static int insert_key(struct cli *cli, void *arg)
{
	struct new_key *k = arg;
	const struct mailadm_section *s = &cli->settings.mailadm;
	char dir[PATH_MAX_LEN], err[512];
	int rc, ret;

	if ((rc = require_domain(cli, k->domain)) != EXIT_OK)
		return rc;
	if (k->selector[0] == '\0')
		default_selector(cli, k);
	snprintf(dir, sizeof(dir), "%s/%s", s->dkim_key_dir, k->domain);
	if ((rc = make_key_dir(cli, s->dkim_key_dir, s->dkim_key_group)) != EXIT_OK ||
	    (rc = make_key_dir(cli, dir, s->dkim_key_group)) != EXIT_OK)
		return rc;
	if (snprintf(k->path, sizeof(k->path), "%s/%s.key", dir, k->selector) >= (int)sizeof(k->path))
		return cli_fail(cli, EXIT_BAD_INPUT, "the key path is too long");
	if (count_where(cli, "SELECT COUNT(*) FROM dkim_keys WHERE domain = ? AND selector = ?",
			(struct db_param[]){ DB_STR(k->domain), DB_STR(k->selector) }, 2) > 0)
		return cli_fail(cli, EXIT_CONFLICT, "%s already has a key with selector \"%s\"", k->domain,
				k->selector);
	if (dkim_keypair_generate(k->ed25519, k->bits, k->path, s->dkim_key_group, &k->key, err,
			      sizeof(err)) < 0)
		return cli_fail(cli, EXIT_FAILURE_OTHER, "%s", err);
	ret = db_exec(cli->db, "INSERT INTO dkim_keys (domain, selector, algorithm, bits, key_path, "
		      "public_key, state) VALUES (?, ?, ?, ?, ?, ?, 'pending')",
		      (struct db_param[]){ DB_STR(k->domain), DB_STR(k->selector),
					   DB_STR(k->ed25519 ? "ed25519-sha256" : "rsa-sha256"),
					   k->ed25519 ? DB_NULL : DB_INT(k->bits), DB_STR(k->path),
					   DB_STR(k->key.public_b64) }, 6, NULL);
	if (ret != DB_OK) {
		unlink(k->path);	/* no key file without its row */
		return cli_db_fail(cli, ret, k->selector);
	}
	return EXIT_OK;
}

static void print_next_steps(const struct new_key *k)
{
	struct strbuf txt = STRBUF_INIT;

	dkim_txt_record(k->selector, k->domain, k->ed25519, k->key.public_b64, &txt);
	printf("new %s key %s for %s (pending: it does not sign yet)\n  private key: %s\n"
	       "publish this record, then run: mailadm dkim activate %s %s\n%s\n",
	       k->ed25519 ? "Ed25519" : "RSA", k->selector, k->domain, k->path, k->domain,
	       k->selector, strbuf_str(&txt));
	strbuf_release(&txt);
}

static int parse_algo(struct cli *cli, const struct cli_args *args, struct new_key *k)
{
	const char *algo = cli_value(cli, args, "algo"), *bits = cli_value(cli, args, "bits");
	long long n = cli->settings.mailadm.dkim_rsa_bits;
	int rc;

	if (algo != NULL && strcmp(algo, "rsa") != 0 && strcmp(algo, "ed25519") != 0)
		return cli_fail(cli, EXIT_BAD_INPUT, "--algo: \"%s\": rsa or ed25519", algo);
	k->ed25519 = algo != NULL && strcmp(algo, "ed25519") == 0;
	if (bits != NULL) {
		if (k->ed25519)
			return cli_fail(cli, EXIT_BAD_INPUT, "--bits applies to RSA keys only");
		if ((rc = cli_number(cli, "bits", bits, 1024, 4096, &n)) != EXIT_OK)
			return rc;
		if (n % 1024 != 0)
			return cli_fail(cli, EXIT_BAD_INPUT, "--bits: use 1024, 2048, 3072 or 4096");
	}
	k->bits = (unsigned)n;
	return EXIT_OK;
}

static int dkim_keygen(struct cli *cli, const struct cli_args *args)
{
	const char *selector = cli_value(cli, args, "selector");
	struct new_key k;
	int rc;

	memset(&k, 0, sizeof(k));
	if ((rc = valid_domain(cli, args->positional[0], k.domain)) != EXIT_OK ||
	    (rc = parse_algo(cli, args, &k)) != EXIT_OK ||
	    (selector && (rc = valid_selector(cli, selector)) != EXIT_OK))
		return rc;
	if (selector != NULL)
		snprintf(k.selector, sizeof(k.selector), "%s", selector);
	if (k.bits == 1024 && !k.ed25519)
		fprintf(stderr, "mailadm: warning: 1024-bit RSA keys are weak; receivers may ignore them\n");
	if ((rc = cli_write(cli, insert_key, &k)) == EXIT_OK)
		print_next_steps(&k);
	return rc;
}

/* rotate: a pending successor for the active key of the algorithm. */
static int dkim_rotate(struct cli *cli, const struct cli_args *args)
{
	struct new_key k;
	struct key_row active;
	long long pending;
	int rc, ret;

	memset(&k, 0, sizeof(k));
	if ((rc = valid_domain(cli, args->positional[0], k.domain)) != EXIT_OK ||
	    (rc = parse_algo(cli, args, &k)) != EXIT_OK)
		return rc;
	if (cli_db(cli) == NULL)
		return EXIT_UNAVAILABLE;
	const char *algorithm = k.ed25519 ? "ed25519-sha256" : "rsa-sha256";
	memset(&active, 0, sizeof(active));
	ret = db_query(cli->db, "SELECT selector, algorithm, state, public_key, key_path, bits FROM "
		       "dkim_keys WHERE domain = ? AND algorithm = ? AND state = 'active'",
		       (struct db_param[]){ DB_STR(k.domain), DB_STR(algorithm) }, 2, read_key_row, &active);
	if (ret != DB_OK)
		return cli_db_fail(cli, ret, k.domain);
	if (!active.found)
		return cli_fail(cli, EXIT_NOT_FOUND, "%s has no active %s key to rotate (dkim keygen "
				"creates the first)", k.domain, algorithm);
	pending = count_where(cli, "SELECT COUNT(*) FROM dkim_keys WHERE domain = ? AND algorithm = ? "
			      "AND state = 'pending'",
			      (struct db_param[]){ DB_STR(k.domain), DB_STR(algorithm) }, 2);
	if (pending > 0)
		return cli_fail(cli, EXIT_CONFLICT, "%s already has a pending %s key: activate or retire "
				"it first", k.domain, algorithm);
	if (!k.ed25519 && cli_value(cli, args, "bits") == NULL && active.bits >= 1024)
		k.bits = active.bits;	/* keep the size unless told otherwise */
	if ((rc = cli_write(cli, insert_key, &k)) == EXIT_OK)
		print_next_steps(&k);
	return rc;
}

/* --- state changes -------------------------------------------------------- */

struct transition {
	char domain[ADDR_DOMAIN_MAX + 1];
	const char *selector;
	bool force;
	struct key_row key;
};

/* Does SELECTOR._domainkey.DOMAIN publish this key? NULL when yes. */
static const char *published(struct cli *cli, const struct transition *t, char *why, size_t whylen)
{
	char name[SELECTOR_MAX + ADDR_DOMAIN_MAX + 16], err[256];
	struct dns *dns = dns_new(&cli->settings.common.dns, err, sizeof(err));
	struct dns_answer *a;
	const char *mismatch = "no DKIM record";
	bool ok;

	if (dns == NULL) {
		snprintf(why, whylen, "%s", err);
		return why;
	}
	snprintf(name, sizeof(name), "%s._domainkey.%s", t->selector, t->domain);
	a = dns_lookup(dns, name, DNS_TXT);
	for (size_t i = 0; a->status == DNS_OK && i < a->count && mismatch != NULL; i++)
		mismatch = dkim_txt_matches(a->records[i].data,
					    strcmp(t->key.algorithm, "ed25519-sha256") == 0,
					    t->key.public_key);
	ok = a->status == DNS_OK && mismatch == NULL;
	if (a->status != DNS_OK)
		snprintf(why, whylen, "%s TXT: %s", name, a->why ? a->why : dns_status_name(a->status));
	else if (mismatch != NULL)
		snprintf(why, whylen, "%s TXT: %s", name, mismatch);
	dns_answer_free(&a);
	dns_free(&dns);
	return ok ? NULL : why;
}

static int activate_key(struct cli *cli, void *arg)
{
	struct transition *t = arg;
	struct db_param where[] = { DB_STR(t->domain), DB_STR(t->key.algorithm), DB_STR(t->selector) };
	int ret;

	/* the one it replaces first: at most one active key per algorithm */
	ret = db_exec(cli->db, "UPDATE dkim_keys SET state = 'retiring', retiring_at = "
			      "UTC_TIMESTAMP() WHERE domain = ? AND algorithm = ? AND state = 'active' "
			      "AND selector <> ?", where, 3, NULL);
	if (ret == DB_OK)
		ret = db_exec(cli->db, "UPDATE dkim_keys SET state = 'active', activated_at = "
			      "UTC_TIMESTAMP(), retiring_at = NULL WHERE domain = ? AND selector = ?",
			      (struct db_param[]){ DB_STR(t->domain), DB_STR(t->selector) }, 2, NULL);
	return ret == DB_OK ? EXIT_OK : cli_db_fail(cli, ret, t->selector);
}

static int load_transition(struct cli *cli, const struct cli_args *args, struct transition *t)
{
	int rc;

	memset(t, 0, sizeof(*t));
	t->selector = args->positional[1];
	t->force = cli_flag(cli, args, "force");
	if ((rc = valid_domain(cli, args->positional[0], t->domain)) != EXIT_OK ||
	    (rc = valid_selector(cli, t->selector)) != EXIT_OK)
		return rc;
	if (cli_db(cli) == NULL)
		return EXIT_UNAVAILABLE;
	return find_key(cli, t->domain, t->selector, &t->key);
}

static int dkim_activate(struct cli *cli, const struct cli_args *args)
{
	struct transition t;
	char why[512];
	int rc;

	if ((rc = load_transition(cli, args, &t)) != EXIT_OK)
		return rc;
	if (strcmp(t.key.state, "active") == 0)
		return cli_fail(cli, EXIT_CONFLICT, "%s of %s is already active", t.selector, t.domain);
	if (strcmp(t.key.state, "retired") == 0)
		return cli_fail(cli, EXIT_CONFLICT, "%s of %s is retired and no longer published; "
				"generate a new key", t.selector, t.domain);
	if (!t.force && published(cli, &t, why, sizeof(why)) != NULL)
		return cli_fail(cli, EXIT_FAILURE_OTHER, "not activated: %s (publish the record from "
				"\"mailadm dkim dns %s\", wait for it to resolve, or use --force)", why,
				t.domain);
	if ((rc = cli_write(cli, activate_key, &t)) == EXIT_OK)
		printf("%s of %s now signs%s\n", t.selector, t.domain,
		       t.force ? " (activated without checking DNS)" : "");
	return rc;
}

static int retire_key(struct cli *cli, void *arg)
{
	struct transition *t = arg;
	int ret = db_exec(cli->db, "UPDATE dkim_keys SET state = 'retired', retired_at = UTC_TIMESTAMP() "
			  "WHERE domain = ? AND selector = ?",
			  (struct db_param[]){ DB_STR(t->domain), DB_STR(t->selector) }, 2, NULL);

	return ret == DB_OK ? EXIT_OK : cli_db_fail(cli, ret, t->selector);
}

static int dkim_retire(struct cli *cli, const struct cli_args *args)
{
	struct transition t;
	int rc;

	if ((rc = load_transition(cli, args, &t)) != EXIT_OK)
		return rc;
	if (strcmp(t.key.state, "active") == 0)
		return cli_fail(cli, EXIT_CONFLICT, "%s of %s is the active key: activate its successor "
				"first (dkim rotate), so that no mail goes unsigned", t.selector, t.domain);
	if (strcmp(t.key.state, "retired") == 0)
		return cli_fail(cli, EXIT_CONFLICT, "%s of %s is already retired", t.selector, t.domain);
	if ((rc = cli_write(cli, retire_key, &t)) != EXIT_OK)
		return rc;
	if (cli_flag(cli, args, "delete-key") && unlink(t.key.path) < 0 && errno != ENOENT)
		return cli_fail(cli, EXIT_FAILURE_OTHER, "retired, but %s: %s", t.key.path, strerror(errno));
	printf("%s of %s retired: remove its TXT record%s\n", t.selector, t.domain,
	       cli_flag(cli, args, "delete-key") ? "; the private key file is deleted" : "");
	return EXIT_OK;
}

/* --- reading ------------------------------------------------------------------ */

static int add_listing(const struct db_row *row, void *arg)
{
	struct rows *rows = arg;
	const char *problem = keyfile_problem(row->values[7]);
	const char *values[8];

	memcpy(values, row->values, 7 * sizeof(char *));
	values[7] = problem != NULL ? problem : "ok";
	rows_add(rows, values);
	return 0;
}

static int dkim_list(struct cli *cli, const struct cli_args *args)
{
	char domain[ADDR_DOMAIN_MAX + 1] = "";
	struct rows rows;
	int rc, ret;

	if (args->count > 0 && (rc = valid_domain(cli, args->positional[0], domain)) != EXIT_OK)
		return rc;
	if (cli_db(cli) == NULL)
		return EXIT_UNAVAILABLE;
	rows_init(&rows, list_fields, N_FIELDS(list_fields));
	ret = db_query(cli->db, "SELECT domain, selector, algorithm, bits, state, created_at, "
		       "activated_at, key_path FROM dkim_keys WHERE (? = '' OR domain = ?) AND "
		       "(? = 1 OR state <> 'retired') ORDER BY domain, FIELD(state, 'active', 'pending', "
		       "'retiring', 'retired'), algorithm, selector",
		       (struct db_param[]){ DB_STR(domain), DB_STR(domain),
					    DB_INT(cli_flag(cli, args, "all")) }, 3, add_listing, &rows);
	if (ret == DB_OK)
		rows_print(&rows, cli->json);
	rows_free(&rows);
	return ret == DB_OK ? EXIT_OK : cli_db_fail(cli, ret, "listing DKIM keys");
}

struct published_walk {
	dkim_published_fn *fn;
	void *arg;
	int count;
};

static int visit_published(const struct db_row *row, void *arg)
{
	struct published_walk *w = arg;

	w->fn(row->values[0], strcmp(row->values[1], "ed25519-sha256") == 0, row->values[2],
	      row->values[3], w->arg);
	w->count++;
	return 0;
}

int dkim_for_each_published(struct cli *cli, const char *domain, dkim_published_fn *fn, void *arg)
{
	struct published_walk w = { fn, arg, 0 };
	int ret = db_query(cli->db, "SELECT selector, algorithm, state, public_key FROM dkim_keys "
			   "WHERE domain = ? AND state IN ('pending', 'active', 'retiring') "
			   "ORDER BY algorithm, FIELD(state, 'active', 'pending', 'retiring'), selector",
			   (struct db_param[]){ DB_STR(domain) }, 1, visit_published, &w);

	return ret == DB_OK ? w.count : -1;
}

struct zone_lines {
	const char *domain;
	struct strbuf out;
};

static void print_record(const char *selector, bool ed25519, const char *state,
			 const char *public_key, void *arg)
{
	struct zone_lines *z = arg;

	strbuf_appendf(&z->out, "; %s (%s)\n", selector, state);
	dkim_txt_record(selector, z->domain, ed25519, public_key, &z->out);
	strbuf_append_char(&z->out, '\n');
}

static int dkim_dns(struct cli *cli, const struct cli_args *args)
{
	char domain[ADDR_DOMAIN_MAX + 1];
	struct zone_lines z = { domain, STRBUF_INIT };
	int rc, n;

	if ((rc = valid_domain(cli, args->positional[0], domain)) != EXIT_OK)
		return rc;
	if (cli_db(cli) == NULL)
		return EXIT_UNAVAILABLE;
	if ((rc = require_domain(cli, domain)) != EXIT_OK)
		return rc;
	n = dkim_for_each_published(cli, domain, print_record, &z);
	if (n < 0)
		rc = cli_db_fail(cli, DB_UNAVAILABLE, domain);
	else if (n == 0)
		rc = cli_fail(cli, EXIT_NOT_FOUND, "%s has no DKIM keys (mailadm dkim keygen %s)", domain,
			      domain);
	else
		fputs(strbuf_str(&z.out), stdout);
	strbuf_release(&z.out);
	return rc;
}

static const struct cli_option keygen_options[] = {
	{ "algo", "rsa|ed25519" }, { "bits", "N" }, { "selector", "NAME" }, { NULL, NULL },
};
static const struct cli_option rotate_options[] = {
	{ "algo", "rsa|ed25519" }, { "bits", "N" }, { NULL, NULL },
};
static const struct cli_option list_options[] = { { "all", NULL }, { NULL, NULL } };
static const struct cli_option activate_options[] = { { "force", NULL }, { NULL, NULL } };
static const struct cli_option retire_options[] = { { "delete-key", NULL }, { NULL, NULL } };

const struct cli_command dkim_commands[] = {
	{ "dkim", "keygen", "DOMAIN [--algo rsa|ed25519] [--bits N] [--selector NAME]",
	  "generate a signing key (pending until activated)", 1, 1, keygen_options, dkim_keygen },
	{ "dkim", "list", "[DOMAIN] [--all]", "list DKIM keys (--all: retired ones too)", 0, 1,
	  list_options, dkim_list },
	{ "dkim", "dns", "DOMAIN", "the TXT records to publish for a domain's keys", 1, 1, NULL,
	  dkim_dns },
	{ "dkim", "rotate", "DOMAIN [--algo rsa|ed25519] [--bits N]",
	  "generate the successor of the active key (pending)", 1, 1, rotate_options, dkim_rotate },
	{ "dkim", "activate", "DOMAIN SELECTOR [--force]",
	  "sign with this key once its TXT record resolves; the old key starts retiring", 2, 2,
	  activate_options, dkim_activate },
	{ "dkim", "retire", "DOMAIN SELECTOR [--delete-key]",
	  "stop publishing a key that no longer signs", 2, 2, retire_options, dkim_retire },
	{ NULL, NULL, NULL, NULL, 0, 0, NULL, NULL },
};
