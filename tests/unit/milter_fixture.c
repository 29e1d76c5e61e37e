/*
 * milter_fixture.c - the context half of the milter's test fixture (see
 * milter_fixture.h): the resolver with local data, keys, the
 * configuration, and the struct milter_context main.c would build.
 */
#include "autoconfig.h"

#include "unit.h"

#include <ftw.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/rep_trace.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "mailauth/dkim_crypto.h"
#include "mailauth/dkim_pubkey.h"
#include "mailauth/dkim_signkey.h"
#include "milter/dns_glue.h"
#include "milter/store.h"
#include "milter/tables.h"
#include "tests/unit/milter_fixture.h"

#define TXT_STRING_MAX 255

/* --- the resolver and the directory ------------------------------------------------ */

/* One resolver for the process: its first question costs tens of
 * milliseconds (libunbound sets up room for thousands of queries), far
 * more than a test. Every fixture adds its records to it; a record added
 * twice is kept once. */
static struct dns *shared_dns;

/* The directories of fixtures not freed yet: a failed test ends before
 * fixture_free(), and the exit removes what it left. */
static char *live_dirs[64];

static void free_shared(void);
static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw);

static void remember_dir(const char *dir, bool live)
{
	for (size_t i = 0; i < N_ELEMENTS(live_dirs); i++) {
		if (live && live_dirs[i] == NULL) {
			live_dirs[i] = xstrdup(dir);
			return;
		}
		if (!live && live_dirs[i] != NULL && strcmp(live_dirs[i], dir) == 0) {
			free(live_dirs[i]);
			live_dirs[i] = NULL;
			return;
		}
	}
}

static struct dns *local_dns(void)
{
	/* a port nothing answers on: only local data answers */
	static char upstream0[] = "127.0.0.1:9", no_anchor[] = "";
	static char *upstream[] = { upstream0 };
	struct dns_settings s = {
		.upstream = { upstream, 1 }, .timeout_ms = 1000, .cache_size = 1 << 20,
		.cache_max_ttl_ms = 86400000, .trust_anchor_file = no_anchor,
	};
	char err[256];

	if (shared_dns != NULL)
		return shared_dns;
	shared_dns = dns_new(&s, err, sizeof(err));
	if (shared_dns == NULL ||
	    dns_add_local_zone(shared_dns, ".", DNS_LOCAL_STATIC, err, sizeof(err)) < 0 ||
	    dns_add_local_zone(shared_dns, FIXTURE_TEMPFAIL_ZONE, DNS_LOCAL_REFUSE, err,
			       sizeof(err)) < 0)
		fail_msg("fixture: resolver: %s", err);
	atexit(free_shared);
	return shared_dns;
}

struct fixture *fixture_new(void)
{
	struct fixture *fx = xcalloc(1, sizeof(*fx));

	log_set_level(getenv("FIXTURE_VERBOSE") != NULL ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARNING);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/lr-milter-fixture.XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		fail_msg("fixture: mkdtemp failed");
	remember_dir(fx->dir, true);
	fx->dns = local_dns();
	fx->metrics = metrics_new();
	return fx;
}

/* A TXT record's strings split at 255 characters, as a zone file wants. */
static void split_txt(const char *rr, struct strbuf *out)
{
	const char *open = strchr(rr, '"'), *close = strrchr(rr, '"');

	if (open == NULL || close == open || strstr(rr, "\" \"") != NULL) {
		strbuf_append_str(out, rr);
		return;
	}
	strbuf_append(out, rr, (size_t)(open - rr));
	for (const char *p = open + 1; p < close; p += TXT_STRING_MAX) {
		size_t n = (size_t)(close - p) < TXT_STRING_MAX ? (size_t)(close - p) : TXT_STRING_MAX;

		strbuf_appendf(out, "%s\"%.*s\"", p == open + 1 ? "" : " ", (int)n, p);
	}
	strbuf_append_str(out, close + 1);
}

void fixture_dns(struct fixture *fx, const char *fmt, ...)
{
	struct strbuf rr = STRBUF_INIT, split = STRBUF_INIT;
	char err[512];
	va_list ap;

	va_start(ap, fmt);
	strbuf_vappendf(&rr, fmt, ap);
	va_end(ap);
	split_txt(strbuf_str(&rr), &split);
	if (dns_add_local_data(fx->dns, strbuf_str(&split), err, sizeof(err)) < 0)
		fail_msg("fixture: %s", err);
	strbuf_release(&rr);
	strbuf_release(&split);
}

const char *fixture_path(struct fixture *fx, const char *name)
{
	static char path[4][256];
	static unsigned next;
	char *p = path[next++ % 4];

	if (snprintf(p, sizeof(path[0]), "%s/%s", fx->dir, name) >= (int)sizeof(path[0]))
		fail_msg("fixture: path too long");
	return p;
}

void fixture_file(struct fixture *fx, const char *name, const char *text, mode_t mode)
{
	const char *path = fixture_path(fx, name);
	FILE *fp = fopen(path, "w");

	if (fp == NULL || fputs(text, fp) < 0 || fclose(fp) != 0 || chmod(path, mode) < 0)
		fail_msg("fixture: cannot write %s", path);
}

/* The p= of a key: the SubjectPublicKeyInfo of RSA, the raw 32 bytes of
 * Ed25519 (RFC 8463). */
static void public_b64(EVP_PKEY *pkey, bool ed25519, struct strbuf *out)
{
	unsigned char buf[1024], *p = buf;
	size_t raw = 32;
	int len;

	if (ed25519) {
		if (EVP_PKEY_get_raw_public_key(pkey, buf, &raw) != 1)
			fail_msg("fixture: no Ed25519 public key");
		len = (int)raw;
	} else if ((len = i2d_PUBKEY(pkey, NULL)) <= 0 || len > (int)sizeof(buf) ||
		   i2d_PUBKEY(pkey, &p) != len) {
		fail_msg("fixture: no RSA public key");
	}
	dkim_base64_encode(buf, (size_t)len, out);
}

/* Keys are made once per process and name: the same name is the same key
 * in every fixture (so the shared resolver holds one record for it). */
struct made_key {
	char name[64];
	enum fixture_key_type type;
	char *pem;
	char *record;		/* "v=DKIM1; k=...; p=..." */
};

static struct made_key made[16];
static size_t made_count;

static const struct made_key *make_key(const char *name, enum fixture_key_type type)
{
	bool ed25519 = type == FIXTURE_ED25519;
	struct made_key *k;
	struct strbuf b64 = STRBUF_INIT, record = STRBUF_INIT;
	EVP_PKEY *pkey;
	BIO *bio;
	char *pem;
	long len = 0;

	for (size_t i = 0; i < made_count; i++)
		if (strcmp(made[i].name, name) == 0 && made[i].type == type)
			return &made[i];
	if (made_count == N_ELEMENTS(made) || strlen(name) >= sizeof(made[0].name))
		fail_msg("fixture: too many keys, or a long name");
	pkey = ed25519 ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")
		       : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)FIXTURE_RSA_BITS);
	bio = BIO_new(BIO_s_mem());
	if (pkey == NULL || bio == NULL ||
	    PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) != 1 ||
	    (len = BIO_get_mem_data(bio, &pem)) <= 0)
		fail_msg("fixture: cannot make the key %s", name);
	public_b64(pkey, ed25519, &b64);
	dkim_pubkey_record(&record, ed25519, strbuf_str(&b64));
	k = &made[made_count++];
	snprintf(k->name, sizeof(k->name), "%s", name);
	k->type = type;
	k->pem = xstrndup(pem, (size_t)len);
	k->record = strbuf_detach(&record);
	strbuf_release(&b64);
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	return k;
}

void fixture_key(struct fixture *fx, const char *name, enum fixture_key_type type,
		 const char *selector, const char *domain)
{
	const struct made_key *k = make_key(name, type);

	fixture_file(fx, name, k->pem, 0600);
	if (domain != NULL)
		fixture_dns(fx, "%s._domainkey.%s. 300 IN TXT \"%s\"", selector, domain, k->record);
}

static void free_shared(void)
{
	for (size_t i = 0; i < N_ELEMENTS(live_dirs); i++) {
		if (live_dirs[i] != NULL)
			nftw(live_dirs[i], remove_entry, 8, FTW_DEPTH | FTW_PHYS);
		free(live_dirs[i]);
		live_dirs[i] = NULL;
	}
	dns_free(&shared_dns);
	for (size_t i = 0; i < made_count; i++) {
		free(made[i].pem);
		free(made[i].record);
	}
	made_count = 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

/* config with "@DIR@" replaced, and a learning section unless it has one. */
static void write_config(struct fixture *fx, const char *config)
{
	struct strbuf text = STRBUF_INIT;

	for (const char *p = config, *at; *p != '\0'; p = at + 5) {
		if ((at = strstr(p, "@DIR@")) == NULL) {
			strbuf_append_str(&text, p);
			break;
		}
		strbuf_append(&text, p, (size_t)(at - p));
		strbuf_append_str(&text, fx->dir);
	}
	if (strstr(config, "learning") == NULL) {
		fixture_file(fx, "learning.secrets", FIXTURE_TRACE_SECRET "\n", 0600);
		strbuf_appendf(&text, "\nlearning = { secrets_file = \"%s\"; };\n",
			       fixture_path(fx, "learning.secrets"));
	}
	fixture_file(fx, "limristem.conf", strbuf_str(&text), 0600);
	strbuf_release(&text);
}

/* The trace keys, the store, the tables and the seal key (main.c's
 * open_state() and start(), without Redis, a database or sockets). */
static void open_state(struct fixture *fx, struct milter_context *mc, char *err, size_t errlen)
{
	const struct milter_section *s = &fx->settings.milter;
	const char *secrets = fx->settings.learning.secrets_file;

	if (s->reputation && secrets[0] != '\0' &&
	    secret_list_read(secrets, REP_TRACE_SECRETS_MAX, REP_TRACE_SECRET_MIN, &mc->trace_keys,
			     err, errlen) < 0)
		fail_msg("fixture: learning.secrets_file: %s", err);
	if (s->greylisting || s->reputation)
		mc->store = store_new(NULL, (size_t)(s->memory_state_max < FIXTURE_STATE_MAX
						     ? s->memory_state_max : FIXTURE_STATE_MAX),
				      fx->metrics);
	if (tables_open(&fx->settings, err, errlen) < 0 || tables_start(err, errlen) < 0)
		fail_msg("fixture: tables: %s", err);
	if (s->arc_seal_domain[0] != '\0' &&
	    dkim_signkey_load(s->arc_seal_key, (unsigned)s->min_rsa_bits, &mc->seal_key, err,
			      errlen) < 0)
		fail_msg("fixture: arc_seal_key: %s", err);
}

void fixture_start(struct fixture *fx, const char *config)
{
	struct milter_context *mc = &fx->mc;
	char err[CONFIG_ERROR_MAX];

	write_config(fx, config);
	if (config_load(fixture_path(fx, "limristem.conf"), milter_config_sections, &fx->settings,
			err, sizeof(err)) < 0)
		fail_msg("fixture: %s", err);
	fx->started = true;
	mc->settings = &fx->settings.milter;
	if (mc->settings->authserv_id[0] == '\0')
		fail_msg("fixture: set milter.authserv_id (the daemon would take the host name)");
	snprintf(mc->authserv_id, sizeof(mc->authserv_id), "%s", mc->settings->authserv_id);
	milter_context_metrics(mc, fx->metrics);
	open_state(fx, mc, err, sizeof(err));
	mc->dns = fx->dns;
	if ((mc->dkim_lib = dkim_verify_lib_new(err, sizeof(err))) == NULL ||
	    (mc->dmarc = milter_dmarc_checker_new(mc->settings, err, sizeof(err))) == NULL ||
	    (mc->spf = spf_checker_new(dns_glue_spf, mc->dns, mc->authserv_id, err,
				       sizeof(err))) == NULL)
		fail_msg("fixture: %s", err);
	fx->lookups.dns = fx->dns;
}

void fixture_free(struct fixture **fxp)
{
	struct fixture *fx = *fxp;
	struct milter_context *mc;

	if (fx == NULL)
		return;
	mc = &fx->mc;
	if (fx->started) {
		tables_stop();
		store_free(&mc->store);
		dkim_signkey_free(&mc->seal_key);
		spf_checker_free(&mc->spf);
		dmarc_checker_free(&mc->dmarc);
		dkim_verify_lib_free(&mc->dkim_lib);
		secret_list_clear(&mc->trace_keys);
		config_free(milter_config_sections, &fx->settings);
	}
	metrics_free(&fx->metrics);
	nftw(fx->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	remember_dir(fx->dir, false);
	clock_set_wall_offset(0);
	free(fx);
	*fxp = NULL;
}

uint64_t fixture_metric(const struct fixture *fx, const char *series)
{
	struct strbuf text = STRBUF_INIT, want = STRBUF_INIT;
	const char *at;
	uint64_t n = 0;

	metrics_render(fx->metrics, &text);
	strbuf_appendf(&want, "\n%s ", series);
	if ((at = strstr(strbuf_str(&text), strbuf_str(&want))) != NULL)
		n = strtoull(at + want.len, NULL, 10);
	strbuf_release(&text);
	strbuf_release(&want);
	return n;
}
