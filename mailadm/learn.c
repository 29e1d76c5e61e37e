/*
 * learn.c - mailadm learn spam|ham < MESSAGE.
 *
 * A user says a message was spam (moved it into Junk) or was not (moved
 * it out). The milter recorded in X-Limristem-Reputation which validated
 * entities the message came from and what it judged; learning blames or
 * credits those entities in Redis, where the milter scores, and in the
 * reputations table. Each message counts once: learned again as the same
 * class it changes nothing, learned as the other class the first
 * learning is undone. Meant for a Dovecot imapsieve script (see the
 * examples); reads only the header block.
 *
 * A user can put anything in a message (an IMAP APPEND into Junk, a mail
 * to themselves), so only the topmost trace counts (the one our milter
 * added last; it deletes any other on the way in), and only when its mac
 * verifies with a secret of learning.secrets_file: otherwise nothing is
 * learned and the exit code is EXIT_UNTRUSTED. A valid trace copied from
 * one message onto another is the same trace (the mac covers the id), so
 * it still counts once.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/clock.h"
#include "common/redis.h"
#include "common/rep_trace.h"
#include "common/reputation.h"
#include "common/secret.h"
#include "common/strbuf.h"
#include "mailadm/nouns.h"
#include "mailauth/msgsplit.h"

#define HEADER_MAX (1024 * 1024)
#define LEARNED_LIFETIME_S (400LL * 86400)	/* longer than anyone keeps Junk */

struct first_trace {
	bool found;
	struct strbuf value;	/* unfolded */
};

static void take_trace(void *ctx, const char *name, size_t name_len, const char *value,
		       size_t value_len)
{
	struct first_trace *t = ctx;

	while (name_len > 0 && (name[name_len - 1] == ' ' || name[name_len - 1] == '\t'))
		name_len--;	/* obsolete white space before the colon */
	if (t->found || name_len != strlen(REP_TRACE_FIELD) ||
	    strncasecmp(name, REP_TRACE_FIELD, name_len) != 0)
		return;
	t->found = true;
	msgsplit_unfold(value, value_len, &t->value);
}

/* The header block on stdin (an mbox "From " line before it skipped), up
 * to the empty line; -1 when it is over HEADER_MAX. */
static int read_header_block(FILE *in, struct strbuf *block)
{
	char line[8192];
	bool first = true;

	while (fgets(line, sizeof(line), in) != NULL) {
		if (first && strncmp(line, "From ", 5) == 0) {
			first = false;
			continue;
		}
		first = false;
		strbuf_append_str(block, line);
		if (block->len > HEADER_MAX)
			return -1;
		if (line[0] == '\n' || (line[0] == '\r' && line[1] == '\n'))
			break;		/* the end of the header block */
	}
	return 0;
}

/* The unfolded value of the first (topmost) REP_TRACE_FIELD on stdin, in
 * out; -1 when there is none. */
static int read_trace_field(FILE *in, char *out, size_t outlen, bool *too_big_r)
{
	struct strbuf block = STRBUF_INIT;
	struct first_trace t = { false, STRBUF_INIT };

	*too_big_r = read_header_block(in, &block) < 0;
	if (!*too_big_r)
		msgsplit(block.data, block.len, take_trace, &t);
	snprintf(out, outlen, "%s", t.found ? strbuf_str(&t.value) : "");	/* a long one is cut */
	strbuf_release(&block);
	strbuf_release(&t.value);
	return t.found && !*too_big_r ? 0 : -1;
}

/* What learning a message as class does to its entities' counters,
 * against the milter's own judgement of it. */
static struct rep_delta effect(bool spam, const struct rep_trace *t)
{
	if (spam)
		return (struct rep_delta){ .good = t->judged_bad ? 0 : -1, .bad = REP_LEARN_WEIGHT };
	return (struct rep_delta){ .good = REP_LEARN_WEIGHT, .bad = t->judged_bad ? -1 : 0 };
}

struct entity_list {
	size_t count;
	enum rep_type types[3 + REP_TRACE_DKIM_MAX];
	const char *names[3 + REP_TRACE_DKIM_MAX];
};

static void list_entities(const struct rep_trace *t, struct entity_list *e)
{
	e->count = 0;
#define ADD(type, name) do { if ((name)[0]) { e->types[e->count] = type; \
		e->names[e->count++] = name; } } while (0)
	ADD(REP_IP, t->ip);
	ADD(REP_NETWORK, t->network);
	ADD(REP_SPF_DOMAIN, t->spf);
	for (size_t i = 0; i < t->dkim_count; i++)
		ADD(REP_DKIM_DOMAIN, t->dkim[i]);
#undef ADD
}

/* The durable counters, when there is a database: one statement per
 * entity. The milter scores from Redis: a database out of reach (or not
 * readable by the user a Sieve script runs as) costs the history only. */
static int write_database(struct cli *cli, const struct entity_list *e, const struct rep_delta *d)
{
	struct db *db;

	if (cli->settings.common.database.address.kind == ENDPOINT_NONE)
		return EXIT_OK;
	if ((db = cli_db(cli)) == NULL) {
		fprintf(stderr, "mailadm: warning: the reputations table is not updated; the "
			"milter learns all the same\n");
		return EXIT_OK;
	}
	for (size_t i = 0; i < e->count; i++) {
		int rc = db_exec(db, "INSERT INTO reputations (entity_type, entity, good, bad) "
				 "VALUES (?, ?, GREATEST(?, 0), GREATEST(?, 0)) ON DUPLICATE KEY UPDATE "
				 "good = GREATEST(CAST(good AS SIGNED) + ?, 0), "
				 "bad = GREATEST(CAST(bad AS SIGNED) + ?, 0), last_seen_at = CURRENT_TIMESTAMP",
				 (struct db_param[]){ DB_STR(rep_type_name(e->types[i])), DB_STR(e->names[i]),
						      DB_INT(d->good), DB_INT(d->bad), DB_INT(d->good),
						      DB_INT(d->bad) }, 6, NULL);

		if (rc != DB_OK)
			return cli_db_fail(cli, rc, e->names[i]);
	}
	return EXIT_OK;
}

static int apply(struct cli *cli, struct redis *r, const struct rep_trace *t, bool spam)
{
	const char *prefix = redis_key_prefix(r), *class = spam ? "spam" : "ham";
	struct rep_delta d = effect(spam, t), undo;
	char learned[64 + REP_TRACE_ID_LEN], keys_text[3 + REP_TRACE_DKIM_MAX][REP_KEY_MAX];
	const char *keys[3 + REP_TRACE_DKIM_MAX];
	struct entity_list e;
	redisReply *reply;
	int rc;

	snprintf(learned, sizeof(learned), "%slearned:%s", prefix, t->id);	/* fits */
	reply = redis_command(r, "GET %s", learned);
	if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
		redis_reply_free(&reply);
		return cli_fail(cli, EXIT_UNAVAILABLE, "Redis unavailable; nothing learned");
	}
	if (reply->type == REDIS_REPLY_STRING && strcmp(reply->str, class) == 0) {
		redis_reply_free(&reply);
		printf("message %s was already learned as %s; nothing changed\n", t->id, class);
		return EXIT_OK;
	}
	if (reply->type == REDIS_REPLY_STRING) {	/* learned the other way before: undo it */
		undo = effect(!spam, t);
		d.good -= undo.good;
		d.bad -= undo.bad;
	}
	redis_reply_free(&reply);
	list_entities(t, &e);
	if ((rc = write_database(cli, &e, &d)) != EXIT_OK)
		return rc;
	for (size_t i = 0; i < e.count; i++) {
		if (rep_key(prefix, e.types[i], e.names[i], keys_text[i], sizeof(keys_text[i])) < 0)
			return cli_fail(cli, EXIT_BAD_INPUT, "%s: too long for a key", e.names[i]);
		keys[i] = keys_text[i];
	}
	if ((e.count > 0 && rep_redis_add(redis_pool_command, r, e.count, keys, &d, clock_wall_s(), 0, 0) < 0) ||
	    (reply = redis_command(r, "SET %s %s EX %lld", learned, class, LEARNED_LIFETIME_S)) == NULL)
		return cli_fail(cli, EXIT_UNAVAILABLE, "Redis unavailable while learning");
	redis_reply_free(&reply);
	printf("learned as %s:", class);
	for (size_t i = 0; i < e.count; i++)
		printf(" %s %s%s", rep_type_name(e.types[i]), e.names[i], i + 1 < e.count ? "," : "");
	printf("%s\n", e.count ? "" : " no validated entity (nothing to blame or credit)");
	return EXIT_OK;
}

/* Whether this site's milter signed t: 0, or the exit code after saying
 * why not. */
static int check_mac(struct cli *cli, const struct rep_trace *t)
{
	const char *path = cli->settings.learning.secrets_file;
	struct secret_list keys;
	char err[512];
	int rc;

	if (path[0] == '\0')
		return cli_fail(cli, EXIT_UNAVAILABLE, "learning.secrets_file is empty: no trace can "
				"be verified, nothing is learned");
	if (secret_list_read(path, REP_TRACE_SECRETS_MAX, REP_TRACE_SECRET_MIN, &keys, err,
			     sizeof(err)) < 0)
		return cli_fail(cli, EXIT_UNAVAILABLE, "learning.secrets_file: %s; nothing learned", err);
	rc = rep_trace_verify(t, (const char *const *)keys.items, keys.count);
	secret_list_clear(&keys);
	if (rc == 0)
		return EXIT_OK;
	return cli_fail(cli, EXIT_UNTRUSTED, REP_TRACE_FIELD ": %s: this site's milter did not "
			"write it (forged, altered, or signed with a secret no longer in %s); "
			"nothing learned", t->mac[0] ? "the mac does not verify" : "no mac", path);
}

static int learn(struct cli *cli, bool spam)
{
	char value[2048], err[256];
	struct rep_trace t;
	const char *why;
	struct redis *r;
	bool too_big;
	int rc;

	if (read_trace_field(stdin, value, sizeof(value), &too_big) < 0)
		return cli_fail(cli, too_big ? EXIT_BAD_INPUT : EXIT_NOT_FOUND, "%s", too_big
				? "the header block is over 1 MiB: not a message"
				: "no " REP_TRACE_FIELD " field: the milter did not receive this message "
				  "(or reputation is off)");
	if (rep_trace_parse(value, strlen(value), &t, &why) < 0)
		return cli_fail(cli, EXIT_UNTRUSTED, REP_TRACE_FIELD ": %s: not a trace this site's "
				"milter wrote; nothing learned", why);
	if ((rc = check_mac(cli, &t)) != EXIT_OK)
		return rc;
	if (cli->settings.common.redis.address.kind == ENDPOINT_NONE)
		return cli_fail(cli, EXIT_UNAVAILABLE, "learning needs redis.address: the milter keeps "
				"reputation there");
	if ((r = redis_new(&cli->settings.common.redis, err, sizeof(err))) == NULL)
		return cli_fail(cli, EXIT_UNAVAILABLE, "%s", err);
	rc = apply(cli, r, &t, spam);
	redis_free(&r);
	return rc;
}

static int learn_spam(struct cli *cli, const struct cli_args *args)
{
	(void)args;
	return learn(cli, true);
}

static int learn_ham(struct cli *cli, const struct cli_args *args)
{
	(void)args;
	return learn(cli, false);
}

const struct cli_command learn_commands[] = {
	{ "learn", "spam", "< MESSAGE", "blame the validated senders of a message (moved into Junk)",
	  0, 0, NULL, learn_spam },
	{ "learn", "ham", "< MESSAGE", "credit them instead (moved out of Junk)", 0, 0, NULL,
	  learn_ham },
	{ NULL, NULL, NULL, NULL, 0, 0, NULL, NULL },
};
