/*
 * blocklist.c - mailadm blocklist list|flush|check.
 *
 * list and flush work on what policyd recorded (the blocklists_cache
 * table, and its Redis copies "<prefix>dnsbl:ZONE:IP"); check asks every
 * zone in blocklists.zones about an address now, through the suite's
 * resolver, and exits 1 when any lists it.
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cidr.h"
#include "common/dns.h"
#include "common/dnsbl.h"
#include "common/redis.h"
#include "common/strbuf.h"
#include "mailadm/nouns.h"
#include "mailadm/output.h"
#include "mailadm/validate.h"

static const struct field cache_fields[] = {
	{ "ip", FIELD_TEXT }, { "zone", FIELD_TEXT }, { "listed", FIELD_BOOL }, { "answer", FIELD_TEXT },
	{ "reason", FIELD_TEXT }, { "checked_at", FIELD_TEXT }, { "expires_at", FIELD_TEXT },
};

static const struct field check_fields[] = {
	{ "zone", FIELD_TEXT }, { "listed", FIELD_BOOL }, { "answer", FIELD_TEXT },
	{ "reason", FIELD_TEXT }, { "lookup", FIELD_TEXT },
};

struct filter {
	char ip[INET6_ADDRSTRLEN];
	char zone[ADDR_DOMAIN_MAX + 1];
};

static int parse_filter(struct cli *cli, const struct cli_args *args, struct filter *f)
{
	const char *ip = cli_value(cli, args, "ip"), *zone = cli_value(cli, args, "zone");
	struct ip_addr addr;
	const char *why;

	memset(f, 0, sizeof(*f));
	if (ip != NULL) {
		if (ip_parse(ip, &addr) < 0)
			return cli_fail(cli, EXIT_BAD_INPUT, "--ip: \"%s\": not an IP address", ip);
		ip_format(&addr, f->ip, sizeof(f->ip));
	}
	if (zone != NULL && (domain_check(zone, strlen(zone), ADDR_ALLOW_UNDERSCORE, &why) < 0 ||
			     domain_normalize(zone, strlen(zone), f->zone, sizeof(f->zone)) < 0))
		return cli_fail(cli, EXIT_BAD_INPUT, "--zone: \"%s\": not a zone name", zone);
	return EXIT_OK;
}

static int blocklist_list(struct cli *cli, const struct cli_args *args)
{
	struct filter f;
	int rc;

	if ((rc = parse_filter(cli, args, &f)) != EXIT_OK)
		return rc;
	return list_rows(cli, cache_fields, N_FIELDS(cache_fields),
			 "SELECT ip, zone, listed, answer, reason, checked_at, expires_at FROM "
			 "blocklists_cache WHERE (? = '' OR ip = ?) AND (? = '' OR zone = ?) "
			 "AND (? = 0 OR listed = 1) ORDER BY ip, zone",
			 (struct db_param[]){ DB_STR(f.ip), DB_STR(f.ip), DB_STR(f.zone), DB_STR(f.zone),
					      DB_INT(cli_flag(cli, args, "listed")) }, 5,
			 "listing the blocklist cache");
}

/* Deletes "<prefix>dnsbl:ZONE:IP" keys matching the filter; -1 if Redis
 * is configured but unreachable. */
static long long flush_redis(struct cli *cli, const struct filter *f)
{
	char err[256], pattern[512], cursor[32] = "0";
	struct redis *r;
	long long deleted = 0;

	if (cli->settings.common.redis.address.kind == ENDPOINT_NONE)
		return 0;
	if ((r = redis_new(&cli->settings.common.redis, err, sizeof(err))) == NULL)
		return -1;
	snprintf(pattern, sizeof(pattern), "%sdnsbl:%s:%s", redis_key_prefix(r),
		 f->zone[0] ? f->zone : "*", f->ip[0] ? f->ip : "*");
	do {
		redisReply *reply = redis_command(r, "SCAN %s MATCH %s COUNT 1000", cursor, pattern);
		if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
			redis_reply_free(&reply);
			deleted = -1;
			break;
		}
		snprintf(cursor, sizeof(cursor), "%s", reply->element[0]->str);
		for (size_t i = 0; i < reply->element[1]->elements; i++) {
			redisReply *del = redis_command(r, "DEL %s", reply->element[1]->element[i]->str);
			deleted += del && del->type == REDIS_REPLY_INTEGER ? del->integer : 0;
			redis_reply_free(&del);
		}
		redis_reply_free(&reply);
	} while (strcmp(cursor, "0") != 0);
	redis_free(&r);
	return deleted;
}

struct flush {
	struct filter filter;
	uint64_t rows;
};

static int flush_table(struct cli *cli, void *arg)
{
	struct flush *fl = arg;
	int ret = db_exec(cli->db, "DELETE FROM blocklists_cache WHERE (? = '' OR ip = ?) AND "
			  "(? = '' OR zone = ?)", (struct db_param[]){ DB_STR(fl->filter.ip),
			  DB_STR(fl->filter.ip), DB_STR(fl->filter.zone), DB_STR(fl->filter.zone) },
			  4, &fl->rows);

	return ret == DB_OK ? EXIT_OK : cli_db_fail(cli, ret, "flushing");
}

static int blocklist_flush(struct cli *cli, const struct cli_args *args)
{
	struct flush fl;
	long long keys;
	int rc;

	if ((rc = parse_filter(cli, args, &fl.filter)) != EXIT_OK)
		return rc;
	if ((rc = cli_write(cli, flush_table, &fl)) != EXIT_OK)
		return rc;
	keys = flush_redis(cli, &fl.filter);
	if (keys < 0)
		return cli_fail(cli, EXIT_UNAVAILABLE, "flushed %llu recorded answers, but Redis is "
				"unreachable: its cached answers expire by themselves",
				(unsigned long long)fl.rows);
	printf("flushed %llu recorded answers and %lld cached in Redis\n",
	       (unsigned long long)fl.rows, keys);
	return EXIT_OK;
}

/* Asks one zone about ip and adds a row. Returns true when listed. */
static bool check_zone(struct dns *dns, const struct ip_addr *ip, const char *spec, struct rows *rows)
{
	struct dnsbl_zone zone;
	struct dns_answer *a, *txt = NULL;
	struct strbuf answers = STRBUF_INIT;
	char name[512], text[INET_ADDRSTRLEN];
	const char *why;
	bool listed = false;

	if (dnsbl_zone_parse(spec, &zone, &why) < 0 || dns_reverse_name(ip, zone.name, name, sizeof(name)) < 0)
		return false;
	a = dns_lookup(dns, name, DNS_A);
	for (size_t i = 0; a->status == DNS_OK && i < a->count; i++) {
		inet_ntop(AF_INET, a->records[i].data, text, sizeof(text));
		strbuf_appendf(&answers, "%s%s", answers.len ? "," : "", text);
		listed |= dnsbl_zone_matches(&zone, (const uint8_t *)a->records[i].data);
	}
	if (listed)
		txt = dns_lookup(dns, name, DNS_TXT);
	rows_add(rows, (const char *const[]){
		zone.name, listed ? "1" : "0", strbuf_str(&answers),
		txt && txt->status == DNS_OK ? txt->records[0].data : "",
		a->why ? a->why : dns_status_name(a->status) });
	strbuf_release(&answers);
	dns_answer_free(&a);
	dns_answer_free(&txt);
	return listed;
}

static int blocklist_check(struct cli *cli, const struct cli_args *args)
{
	const struct config_strings *zones = &cli->settings.common.blocklists.zones;
	struct ip_addr ip;
	struct rows rows;
	struct dns *dns;
	char err[256];
	bool listed = false;

	if (ip_parse(args->positional[0], &ip) < 0)
		return cli_fail(cli, EXIT_BAD_INPUT, "\"%s\": not an IP address", args->positional[0]);
	if (zones->count == 0)
		return cli_fail(cli, EXIT_BAD_INPUT, "no blocklists configured (blocklists.zones in %s)",
				cli->config_path);
	if ((dns = dns_new(&cli->settings.common.dns, err, sizeof(err))) == NULL)
		return cli_fail(cli, EXIT_UNAVAILABLE, "%s", err);
	rows_init(&rows, check_fields, N_FIELDS(check_fields));
	for (size_t i = 0; i < zones->count; i++)
		listed |= check_zone(dns, &ip, zones->items[i], &rows);
	rows_print(&rows, cli->json);
	rows_free(&rows);
	dns_free(&dns);
	return listed ? EXIT_FAILURE_OTHER : EXIT_OK;
}

static const struct cli_option list_options[] = {
	{ "ip", "IP" }, { "zone", "ZONE" }, { "listed", NULL }, { NULL, NULL },
};
static const struct cli_option flush_options[] = { { "ip", "IP" }, { "zone", "ZONE" }, { NULL, NULL } };

const struct cli_command blocklist_commands[] = {
	{ "blocklist", "list", "[--ip IP] [--zone ZONE] [--listed]",
	  "list the blocklist answers policyd recorded", 0, 0, list_options, blocklist_list },
	{ "blocklist", "flush", "[--ip IP] [--zone ZONE]",
	  "forget recorded answers (in the table and in Redis), so they are asked again",
	  0, 0, flush_options, blocklist_flush },
	{ "blocklist", "check", "IP", "ask every configured blocklist about IP now (exit 1: listed)",
	  1, 1, NULL, blocklist_check },
	{ NULL, NULL, NULL, NULL, 0, 0, NULL, NULL },
};
