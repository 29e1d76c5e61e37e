/*
 * reputation.c - mailadm reputation list|show|set|del.
 *
 * Entities are a client IP, a client network, or a domain validated by
 * SPF or DKIM. The milter keeps live counters in Redis and writes them
 * back to the reputations table; the operator reads both here and sets
 * overrides (allow or block, optionally until a time) that win over any
 * score.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cidr.h"
#include "common/config.h"
#include "common/redis.h"
#include "mailadm/nouns.h"
#include "mailadm/output.h"
#include "mailadm/validate.h"

#define REASON_MAX 255
#define EXPIRES_MAX_S (10LL * 365 * 86400)

static const struct field list_fields[] = {
	{ "type", FIELD_TEXT }, { "entity", FIELD_TEXT }, { "good", FIELD_NUMBER },
	{ "bad", FIELD_NUMBER }, { "rejected", FIELD_NUMBER }, { "trap_hits", FIELD_NUMBER },
	{ "override", FIELD_TEXT }, { "override_expires_at", FIELD_TEXT }, { "last_seen_at", FIELD_TEXT },
};

static const struct field show_fields[] = {
	{ "type", FIELD_TEXT }, { "entity", FIELD_TEXT }, { "good", FIELD_NUMBER },
	{ "bad", FIELD_NUMBER }, { "rejected", FIELD_NUMBER }, { "trap_hits", FIELD_NUMBER },
	{ "override", FIELD_TEXT }, { "override_expires_at", FIELD_TEXT },
	{ "override_reason", FIELD_TEXT }, { "first_seen_at", FIELD_TEXT }, { "last_seen_at", FIELD_TEXT },
	{ "live_counters", FIELD_TEXT },
};

static const struct {
	const char *cli, *db;
} types[] = {
	{ "ip", "ip" }, { "network", "network" }, { "spf-domain", "spf_domain" },
	{ "dkim-domain", "dkim_domain" },
};

struct entity {
	const char *type;		/* as the database spells it */
	char value[ADDR_DOMAIN_MAX + 1];
	const char *override;
	long long expires_s;		/* 0: never */
	const char *reason;
};

/* "spf-domain" -> "spf_domain"; NULL for an unknown type. */
static const char *db_type(const char *type)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(type, types[i].cli) == 0 || strcmp(type, types[i].db) == 0)
			return types[i].db;
	return NULL;
}

static int parse_entity(struct cli *cli, const char *type, const char *input, struct entity *e)
{
	struct cidr net;
	struct ip_addr ip;
	const char *why;

	memset(e, 0, sizeof(*e));
	e->type = db_type(type);
	if (e->type == NULL)
		return cli_fail(cli, EXIT_BAD_INPUT, "\"%s\": the type is ip, network, spf-domain or "
				"dkim-domain", type);
	if (strcmp(e->type, "ip") == 0) {
		if (ip_parse(input, &ip) < 0)
			return cli_fail(cli, EXIT_BAD_INPUT, "\"%s\": not an IP address", input);
		ip_format(&ip, e->value, sizeof(e->value));
	} else if (strcmp(e->type, "network") == 0) {
		if (cidr_parse(input, &net, &why) < 0)
			return cli_fail(cli, EXIT_BAD_INPUT, "\"%s\": %s", input, why);
		cidr_format(&net, e->value, sizeof(e->value));
	} else {
		return valid_domain(cli, input, e->value);
	}
	return EXIT_OK;
}

static int reputation_list(struct cli *cli, const struct cli_args *args)
{
	const char *type_arg = cli_value(cli, args, "type"), *type = "";

	if (type_arg != NULL && (type = db_type(type_arg)) == NULL)
		return cli_fail(cli, EXIT_BAD_INPUT, "--type: \"%s\": ip, network, spf-domain or "
				"dkim-domain", type_arg);
	return list_rows(cli, list_fields, N_FIELDS(list_fields),
			 "SELECT REPLACE(entity_type, '_', '-'), entity, good, bad, rejected, trap_hits, "
			 "override, override_expires_at, last_seen_at FROM reputations "
			 "WHERE (? = '' OR entity_type = ?) AND (? = 0 OR override <> 'none') "
			 "ORDER BY entity_type, entity",
			 (struct db_param[]){ DB_STR(type), DB_STR(type),
					      DB_INT(cli_flag(cli, args, "overrides")) }, 3,
			 "listing reputations");
}

/* The milter's live counters for the entity, "name=value ..." ("" when
 * none or no Redis). */
static void live_counters(struct cli *cli, const struct entity *e, char *out, size_t outlen)
{
	char err[256];
	struct redis *r;
	redisReply *reply;
	size_t used = 0;

	out[0] = '\0';
	if (cli->settings.common.redis.address.kind == ENDPOINT_NONE ||
	    (r = redis_new(&cli->settings.common.redis, err, sizeof(err))) == NULL)
		return;
	reply = redis_command(r, "HGETALL %srep:%s:%s", redis_key_prefix(r), e->type, e->value);
	for (size_t i = 0; reply && reply->type == REDIS_REPLY_ARRAY && i + 1 < reply->elements; i += 2) {
		int n = snprintf(out + used, outlen - used, "%s%s=%s", used ? " " : "",
				 reply->element[i]->str, reply->element[i + 1]->str);
		if (n < 0 || (size_t)n >= outlen - used)
			break;
		used += (size_t)n;
	}
	redis_reply_free(&reply);
	redis_free(&r);
}

static int reputation_show(struct cli *cli, const struct cli_args *args)
{
	struct entity e;
	struct rows rows;
	char live[512];
	int rc, ret;

	if ((rc = parse_entity(cli, args->positional[0], args->positional[1], &e)) != EXIT_OK)
		return rc;
	if (cli_db(cli) == NULL)
		return EXIT_UNAVAILABLE;
	live_counters(cli, &e, live, sizeof(live));
	rows_init(&rows, show_fields, N_FIELDS(show_fields));
	ret = db_query(cli->db, "SELECT REPLACE(entity_type, '_', '-'), entity, good, bad, rejected, "
		       "trap_hits, override, override_expires_at, override_reason, first_seen_at, "
		       "last_seen_at, ? FROM reputations WHERE entity_type = ? AND entity = ?",
		       (struct db_param[]){ DB_STR(live), DB_STR(e.type), DB_STR(e.value) }, 3,
		       rows_collect, &rows);
	if (ret == DB_OK && rows.count == 0 && live[0] != '\0')
		rows_add(&rows, (const char *const[]){ args->positional[0], e.value, "0", "0", "0", "0",
						       "none", NULL, "", NULL, NULL, live });
	rc = ret != DB_OK ? cli_db_fail(cli, ret, e.value)
	     : rows.count == 0 ? cli_fail(cli, EXIT_NOT_FOUND, "%s %s: nothing recorded", args->positional[0],
					  e.value) : EXIT_OK;
	if (rc == EXIT_OK)
		rows_print_record(&rows, 0, cli->json);
	rows_free(&rows);
	return rc;
}

static int write_override(struct cli *cli, void *arg)
{
	struct entity *e = arg;
	int ret = db_exec(cli->db,
			  "INSERT INTO reputations (entity_type, entity, override, override_expires_at, "
			  "override_reason) VALUES (?, ?, ?, IF(? = 0 OR ? = 'none', NULL, "
			  "UTC_TIMESTAMP() + INTERVAL ? SECOND), ?) ON DUPLICATE KEY UPDATE "
			  "override = VALUES(override), override_expires_at = VALUES(override_expires_at), "
			  "override_reason = VALUES(override_reason)",
			  (struct db_param[]){ DB_STR(e->type), DB_STR(e->value), DB_STR(e->override),
					       DB_INT(e->expires_s), DB_STR(e->override), DB_INT(e->expires_s),
					       DB_STR(e->reason ? e->reason : "") }, 7, NULL);

	return ret == DB_OK ? EXIT_OK : cli_db_fail(cli, ret, e->value);
}

static int reputation_set(struct cli *cli, const struct cli_args *args)
{
	const char *expires = cli_value(cli, args, "expires");
	const char *decision = args->positional[2];
	struct entity e;
	long long ms;
	int rc;

	if ((rc = parse_entity(cli, args->positional[0], args->positional[1], &e)) != EXIT_OK)
		return rc;
	if (strcmp(decision, "allow") != 0 && strcmp(decision, "block") != 0 &&
	    strcmp(decision, "none") != 0)
		return cli_fail(cli, EXIT_BAD_INPUT, "\"%s\": the decision is allow, block or none "
				"(none removes an override)", decision);
	e.override = decision;
	e.reason = cli_value(cli, args, "reason");
	if (e.reason && (rc = valid_text(cli, "--reason", e.reason, REASON_MAX)) != EXIT_OK)
		return rc;
	if (expires != NULL) {
		if (config_parse_duration(expires, &ms) < 0 || ms < 1000 || ms / 1000 > EXPIRES_MAX_S)
			return cli_fail(cli, EXIT_BAD_INPUT, "--expires: \"%s\" is not a duration from 1s "
					"to 10 years (examples: 90m, 12h, 30d)", expires);
		e.expires_s = ms / 1000;
	}
	if ((rc = cli_write(cli, write_override, &e)) == EXIT_OK)
		printf("%s %s: %s%s%s\n", args->positional[0], e.value,
		       strcmp(decision, "none") == 0 ? "no override" : decision,
		       e.expires_s && strcmp(decision, "none") ? " for " : "",
		       e.expires_s && strcmp(decision, "none") ? expires : "");
	return rc;
}

static int delete_entity(struct cli *cli, void *arg)
{
	struct entity *e = arg;
	uint64_t deleted = 0;
	int ret = db_exec(cli->db, "DELETE FROM reputations WHERE entity_type = ? AND entity = ?",
			  (struct db_param[]){ DB_STR(e->type), DB_STR(e->value) }, 2, &deleted);

	if (ret != DB_OK)
		return cli_db_fail(cli, ret, e->value);
	return deleted ? EXIT_OK : cli_fail(cli, EXIT_NOT_FOUND, "%s: nothing recorded", e->value);
}

static int reputation_del(struct cli *cli, const struct cli_args *args)
{
	struct entity e;
	int rc;

	if ((rc = parse_entity(cli, args->positional[0], args->positional[1], &e)) != EXIT_OK)
		return rc;
	if ((rc = cli_write(cli, delete_entity, &e)) == EXIT_OK)
		printf("deleted the record of %s %s\n", args->positional[0], e.value);
	return rc;
}

static const struct cli_option list_options[] = {
	{ "type", "TYPE" }, { "overrides", NULL }, { NULL, NULL },
};
static const struct cli_option set_options[] = {
	{ "expires", "DURATION" }, { "reason", "TEXT" }, { NULL, NULL },
};

const struct cli_command reputation_commands[] = {
	{ "reputation", "list", "[--type ip|network|spf-domain|dkim-domain] [--overrides]",
	  "list recorded reputations", 0, 0, list_options, reputation_list },
	{ "reputation", "show", "TYPE ENTITY", "show one entity's record and live counters", 2, 2,
	  NULL, reputation_show },
	{ "reputation", "set", "TYPE ENTITY allow|block|none [--expires DURATION] [--reason TEXT]",
	  "allow or block an entity whatever its score (none: back to the score)", 3, 3,
	  set_options, reputation_set },
	{ "reputation", "del", "TYPE ENTITY", "forget an entity's record", 2, 2, NULL, reputation_del },
	{ NULL, NULL, NULL, NULL, 0, 0, NULL, NULL },
};
