/*
 * dns.c - mailadm dns DOMAIN: the records to publish for a domain.
 *
 * MX, SPF, every published DKIM key, DMARC, MTA-STS (the _mta-sts TXT
 * record and the policy file to serve) and TLS-RPT, as zone-file lines
 * (or JSON). The MTA-STS id is derived from the policy, so it changes
 * exactly when the policy does.
 */
#include "autoconfig.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/strbuf.h"
#include "mailadm/dkim_keypair.h"
#include "mailadm/nouns.h"
#include "mailadm/validate.h"
#include "mailauth/dkim_pubkey.h"

#define MTA_STS_MAX_AGE 604800

struct zone {
	const char *domain;
	char mx[ADDR_DOMAIN_MAX + 1];
	char report[ADDR_MAX + 1];
	struct strbuf lines;
	json_t *records;
};

static void add_json(struct zone *z, const char *fqdn, const char *type, const char *value)
{
	json_array_append_new(z->records, json_pack("{s:s, s:s, s:s}", "name", fqdn, "type", type,
						    "value", value));
}

/* A record as a zone-file line (value in zone syntax) and as JSON (the
 * value as published, without quotes). */
static void add(struct zone *z, const char *name, const char *type, const char *value,
		const char *comment)
{
	char fqdn[ADDR_DOMAIN_MAX + 32], bare[600];
	size_t len = strlen(value);

	snprintf(fqdn, sizeof(fqdn), "%s%s%s.", name, name[0] ? "." : "", z->domain);
	if (comment != NULL)
		strbuf_appendf(&z->lines, "; %s\n", comment);
	strbuf_appendf(&z->lines, "%-40s IN %-5s %s\n", fqdn, type, value);
	if (len >= 2 && value[0] == '"' && value[len - 1] == '"')
		snprintf(bare, sizeof(bare), "%.*s", (int)len - 2, value + 1);
	else
		snprintf(bare, sizeof(bare), "%s", value);
	add_json(z, fqdn, type, bare);
}

static void add_dkim(const char *selector, bool ed25519, const char *state, const char *public_key,
		     void *arg)
{
	struct zone *z = arg;
	struct strbuf line = STRBUF_INIT, value = STRBUF_INIT;
	char fqdn[ADDR_DOMAIN_MAX + 80];

	strbuf_appendf(&z->lines, "; DKIM key %s (%s)\n", selector, state);
	dkim_txt_record(selector, z->domain, ed25519, public_key, &line);
	strbuf_appendf(&z->lines, "%s\n", strbuf_str(&line));
	snprintf(fqdn, sizeof(fqdn), "%s._domainkey.%s.", selector, z->domain);
	dkim_pubkey_record(&value, ed25519, public_key);
	add_json(z, fqdn, "TXT", strbuf_str(&value));
	strbuf_release(&line);
	strbuf_release(&value);
}

static int host_name(struct cli *cli, char out[ADDR_DOMAIN_MAX + 1])
{
	const char *configured = cli->settings.mailadm.mx_host;
	char host[256];

	if (configured[0] != '\0')
		return valid_domain(cli, configured, out);
	if (gethostname(host, sizeof(host)) < 0 || strchr(host, '.') == NULL)
		return cli_fail(cli, EXIT_BAD_INPUT, "this host's name is not a full domain name: set "
				"mailadm.mx_host to the name your MX record should point at");
	return valid_domain(cli, host, out);
}

static void mta_sts(struct zone *z)
{
	struct strbuf policy = STRBUF_INIT;
	unsigned char digest[32];
	unsigned int len = 0;
	char id[20], value[64], comment[512];

	strbuf_appendf(&policy, "version: STSv1\nmode: testing\nmx: %s\nmax_age: %d\n", z->mx,
		       MTA_STS_MAX_AGE);
	EVP_Digest(policy.data, policy.len, digest, &len, EVP_sha256(), NULL);
	for (int i = 0; i < 8; i++)
		snprintf(id + 2 * i, 3, "%02x", digest[i]);
	snprintf(value, sizeof(value), "\"v=STSv1; id=%s\"", id);
	snprintf(comment, sizeof(comment),
		 "MTA-STS: serve this policy as https://mta-sts.%s/.well-known/mta-sts.txt\n"
		 ";   version: STSv1\n;   mode: testing   (enforce once TLS-RPT reports are clean)\n"
		 ";   mx: %s\n;   max_age: %d", z->domain, z->mx, MTA_STS_MAX_AGE);
	add(z, "_mta-sts", "TXT", value, comment);
	strbuf_release(&policy);
}

static int dns_records(struct cli *cli, const struct cli_args *args)
{
	const struct mailadm_section *s = &cli->settings.mailadm;
	char domain[ADDR_DOMAIN_MAX + 1], value[600];
	struct zone z = { domain, "", "", STRBUF_INIT, json_array() };
	int rc, keys;

	if ((rc = valid_domain(cli, args->positional[0], domain)) != EXIT_OK ||
	    (rc = host_name(cli, z.mx)) != EXIT_OK)
		goto out;
	if (s->report_address[0] != '\0')
		memcpy(z.report, s->report_address, strlen(s->report_address) + 1);	/* checked <= 254 */
	else if (address_join("postmaster", domain, z.report) < 0) {
		rc = cli_fail(cli, EXIT_BAD_INPUT, "postmaster@%s is too long: set mailadm.report_address",
			      domain);
		goto out;
	}
	if (cli_db(cli) == NULL) {
		rc = EXIT_UNAVAILABLE;
		goto out;
	}
	if ((rc = require_domain(cli, domain)) != EXIT_OK)
		goto out;
	snprintf(value, sizeof(value), "10 %s.", z.mx);
	add(&z, "", "MX", value, "mail for the domain goes to this server");
	snprintf(value, sizeof(value), "\"%s\"", s->spf_record);
	add(&z, "", "TXT", value, "SPF: who may send as the domain");
	keys = dkim_for_each_published(cli, domain, add_dkim, &z);
	if (keys == 0)
		strbuf_appendf(&z.lines, "; no DKIM key yet: mailadm dkim keygen %s\n", domain);
	snprintf(value, sizeof(value), "\"v=DMARC1; p=%s; rua=mailto:%s; adkim=r; aspf=r\"",
		 dmarc_policy_names[s->dmarc_policy], z.report);
	add(&z, "_dmarc", "TXT", value, "DMARC: what receivers do with mail that fails SPF and DKIM");
	mta_sts(&z);
	snprintf(value, sizeof(value), "\"v=TLSRPTv1; rua=mailto:%s\"", z.report);
	add(&z, "_smtp._tls", "TXT", value, "TLS-RPT: where receivers report TLS problems");
	if (keys < 0) {
		rc = cli_db_fail(cli, DB_UNAVAILABLE, domain);
	} else if (cli->json) {
		json_t *out = json_pack("{s:s, s:O}", "domain", domain, "records", z.records);
		json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
		fputc('\n', stdout);
		json_decref(out);
	} else {
		printf("; records to publish for %s\n%s", domain, strbuf_str(&z.lines));
	}
out:
	strbuf_release(&z.lines);
	json_decref(z.records);
	return rc;
}

const struct cli_command dns_commands[] = {
	{ "dns", "", "DOMAIN", "the MX, SPF, DKIM, DMARC, MTA-STS and TLS-RPT records to publish",
	  1, 1, NULL, dns_records },
	{ NULL, NULL, NULL, NULL, 0, 0, NULL, NULL },
};
