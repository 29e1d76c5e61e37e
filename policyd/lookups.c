/*
 * lookups.c - the asynchronous parts of the checks: timed blocks, the
 * shared sending budget, blocklist answers (Redis first, then DNS), and
 * what a spam-trap hit leaves behind.
 *
 * Redis keys (under redis.key_prefix):
 *   block:NETWORK            a trapped client network, with its expiry
 *   send:LOGIN:m:WINDOW      messages counted in a fixed window
 *   send:LOGIN:r:WINDOW      recipients counted in a fixed window
 *   held:LOGIN               an account held as compromised
 *   dnsbl:ZONE:IP            "1 ANSWER REASON" or "0": a blocklist answer
 *   rep:network:NETWORK      reputation counters (trap_hits here)
 *   rep:ip:IP                reputation counters (listed: blocklist listings seen)
 * Redis down means: no block check, no send limits, blocklists straight
 * from DNS; each skip is logged (rate-limited) and counted.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "policyd/pending.h"

#define LOCAL_BLOCKS_MAX 4096

static struct log_ratelimit redis_down_log = LOG_RATELIMIT_INIT(60 * 1000);

static void redis_down(struct pending *p, const char *what)
{
	metric_inc(p->svc->redis_unavailable);
	log_ratelimited(&redis_down_log, LOG_LEVEL_ERROR,
			"policyd: Redis unavailable: %s skipped (and every such check until "
			"it is back)", what);
}

static void ignore_reply(redisReply *reply, void *arg)
{
}

/* --- timed blocks of trapped networks --------------------------------- */

/* The blocks are kept sorted by network, so that the check every request
 * makes is a binary search; adding one (a trap hit) may cost a pass over
 * them. Where network is, or would go. */
static size_t local_block_find(const struct policyd_service *svc, const char *network,
			       bool *found_r)
{
	size_t lo = 0, hi = svc->local_block_count;

	*found_r = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = strcmp(svc->local_blocks[mid].network, network);

		if (cmp == 0) {
			*found_r = true;
			return mid;
		}
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool local_block_active(struct policyd_service *svc, const char *network)
{
	bool found;
	size_t at = local_block_find(svc, network, &found);

	return found && svc->local_blocks[at].until_ms > clock_monotonic_ms();
}

static void local_block_add(struct policyd_service *svc, const char *network, long long ms)
{
	int64_t now = clock_monotonic_ms();
	size_t keep = 0, at;
	bool found;

	for (size_t i = 0; i < svc->local_block_count; i++)	/* drop the expired and this one */
		if (svc->local_blocks[i].until_ms > now &&
		    strcmp(svc->local_blocks[i].network, network) != 0)
			svc->local_blocks[keep++] = svc->local_blocks[i];
	svc->local_block_count = keep;
	if (keep >= LOCAL_BLOCKS_MAX || strlen(network) >= sizeof(svc->local_blocks[0].network))
		return;
	svc->local_blocks = xgrow(svc->local_blocks, &svc->local_block_cap, keep + 1,
				  sizeof(*svc->local_blocks));
	at = local_block_find(svc, network, &found);
	memmove(&svc->local_blocks[at + 1], &svc->local_blocks[at],
		(keep - at) * sizeof(*svc->local_blocks));
	snprintf(svc->local_blocks[at].network, sizeof(svc->local_blocks[at].network), "%s",
		 network);
	svc->local_blocks[at].until_ms = now + ms;
	svc->local_block_count++;
}

static void on_block_reply(redisReply *reply, void *arg)
{
	struct pending *p = arg;
	struct verdict v;

	if (reply == NULL) {
		redis_down(p, "the spam-trap block check");
	} else if (reply->type == REDIS_REPLY_INTEGER && reply->integer > 0) {
		block_verdict(p->network, &v);
		pending_add_verdict(p, CHECK_BLOCKED, &v);
	}
	pending_callback_done(p);
}

void lookup_block(struct pending *p)
{
	struct policyd_service *svc = p->svc;
	struct verdict v;

	if (svc->redis == NULL) {
		if (local_block_active(svc, p->network)) {
			block_verdict(p->network, &v);
			pending_add_verdict(p, CHECK_BLOCKED, &v);
		}
		return;
	}
	p->outstanding++;
	if (redis_async_command(svc->redis, on_block_reply, p, "EXISTS %sblock:%s",
				redis_async_key_prefix(svc->redis), p->network) < 0) {
		p->outstanding--;
		redis_down(p, "the spam-trap block check");
	}
}

void record_trap_hit(struct pending *p)
{
	struct policyd_service *svc = p->svc;
	const struct policyd_section *s = svc->settings;
	const char *prefix;

	log_warning("policyd: spam trap <%s> hit by client %s (network %s, sender <%s>)%s",
		    p->recipient, p->client, p->network, p->sender,
		    s->trap_block_ms > 0 ? ": network blocked" : "");
	if (svc->writeback != NULL) {
		writeback_push(svc->writeback, "UPDATE spam_traps SET hits = hits + 1, "
			       "last_hit_at = UTC_TIMESTAMP() WHERE address = ?",
			       (struct db_param[]){ DB_STR(p->recipient) }, 1);
		if (p->have_ip)
			writeback_push(svc->writeback, "INSERT INTO reputations (entity_type, entity, "
				       "trap_hits) VALUES ('network', ?, 1) ON DUPLICATE KEY UPDATE "
				       "trap_hits = trap_hits + 1, last_seen_at = UTC_TIMESTAMP()",
				       (struct db_param[]){ DB_STR(p->network) }, 1);
	}
	if (!p->have_ip)
		return;
	if (svc->redis == NULL) {
		if (s->trap_block_ms > 0)
			local_block_add(svc, p->network, s->trap_block_ms);
		return;
	}
	prefix = redis_async_key_prefix(svc->redis);
	if ((s->trap_block_ms > 0 &&
	     redis_async_command(svc->redis, ignore_reply, NULL, "SET %sblock:%s %s PX %lld", prefix,
				 p->network, p->recipient, s->trap_block_ms) < 0) ||
	    redis_async_command(svc->redis, ignore_reply, NULL, "HINCRBY %srep:network:%s trap_hits 1",
				prefix, p->network) < 0)
		redis_down(p, "recording a spam-trap block");
}

/* --- the shared sending budget ------------------------------------------ */

/* KEYS: held, messages now, messages before, recipients now, recipients
 * before. ARGV: messages to add, recipients to add, key lifetime (ms).
 * Returns { held, messages now, before, recipients now, before }. */
static const char send_script[] =
	"local function add(key, n, ttl)\n"
	"  if n == 0 then return tonumber(redis.call('GET', key) or '0') end\n"
	"  local v = redis.call('INCRBY', key, n)\n"
	"  if redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, ttl) end\n"
	"  return v\n"
	"end\n"
	"return { redis.call('EXISTS', KEYS[1]),\n"
	"  add(KEYS[2], tonumber(ARGV[1]), ARGV[3]), tonumber(redis.call('GET', KEYS[3]) or '0'),\n"
	"  add(KEYS[4], tonumber(ARGV[2]), ARGV[3]), tonumber(redis.call('GET', KEYS[5]) or '0') }\n";

static long long element_integer(const redisReply *reply, size_t i)
{
	return i < reply->elements && reply->element[i]->type == REDIS_REPLY_INTEGER
		? reply->element[i]->integer : 0;
}

static void hold_account(struct pending *p)
{
	struct policyd_service *svc = p->svc;

	log_warning("policyd: account %s held as possibly compromised: %s", p->login,
		    p->verdict.action);
	redis_async_command(svc->redis, ignore_reply, NULL, "SET %sheld:%s 1 PX %lld",
			    redis_async_key_prefix(svc->redis), p->login,
			    svc->settings->hold_duration_ms);
	if (svc->writeback != NULL)
		writeback_push(svc->writeback, "UPDATE accounts SET sending_held_at = UTC_TIMESTAMP(), "
			       "sending_hold_reason = ? WHERE email = ? AND sending_held_at IS NULL",
			       (struct db_param[]){ DB_STR("sending far over its limit (policyd)"),
						    DB_STR(p->login) }, 2);
}

static void on_send_reply(redisReply *reply, void *arg)
{
	struct pending *p = arg;
	int64_t now = clock_wall_ms();
	double elapsed;
	struct send_counts counts;
	struct verdict v;

	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
		if (reply != NULL)
			log_error("policyd: the send-limit script failed: %s",
				  reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
		redis_down(p, "the sending limits");
		pending_callback_done(p);
		return;
	}
	elapsed = (double)(now % p->limits.window_ms) / (double)p->limits.window_ms;
	counts.messages = send_window_count(element_integer(reply, 1), element_integer(reply, 2), elapsed);
	counts.recipients = send_window_count(element_integer(reply, 3), element_integer(reply, 4), elapsed);
	if (element_integer(reply, 0) > 0) {
		send_held_verdict(p->login, &v);
	} else {
		send_limit_decide(p->login, &counts, &p->limits, &v);
		if (v.kind == VERDICT_HOLD) {
			pending_add_verdict(p, CHECK_SEND_LIMIT, &v);
			hold_account(p);
			pending_callback_done(p);
			return;
		}
	}
	pending_add_verdict(p, CHECK_SEND_LIMIT, &v);
	pending_callback_done(p);
}

void lookup_send_limit(struct pending *p)
{
	struct policyd_service *svc = p->svc;
	const struct account *account = snapshot_account(svc->snapshot, p->login);
	char keys[5][400], ttl[32], add_messages[4];
	const char *prefix;
	long long window;
	struct verdict v;

	if (account != NULL && account->held) {
		send_held_verdict(p->login, &v);
		pending_add_verdict(p, CHECK_SEND_LIMIT, &v);
		return;
	}
	send_limits_for(account, svc->settings, &p->limits);
	if (svc->redis == NULL) {
		redis_down(p, "the sending limits (no Redis configured)");
		return;
	}
	prefix = redis_async_key_prefix(svc->redis);
	window = clock_wall_ms() / p->limits.window_ms;
	snprintf(keys[0], sizeof(keys[0]), "%sheld:%s", prefix, p->login);
	snprintf(keys[1], sizeof(keys[1]), "%ssend:%s:m:%lld", prefix, p->login, window);
	snprintf(keys[2], sizeof(keys[2]), "%ssend:%s:m:%lld", prefix, p->login, window - 1);
	snprintf(keys[3], sizeof(keys[3]), "%ssend:%s:r:%lld", prefix, p->login, window);
	snprintf(keys[4], sizeof(keys[4]), "%ssend:%s:r:%lld", prefix, p->login, window - 1);
	snprintf(ttl, sizeof(ttl), "%lld", 2 * p->limits.window_ms);
	snprintf(add_messages, sizeof(add_messages), "%d", p->new_message ? 1 : 0);
	p->outstanding++;
	if (redis_async_command(svc->redis, on_send_reply, p, "EVAL %s 5 %s %s %s %s %s %s 1 %s",
				send_script, keys[0], keys[1], keys[2], keys[3], keys[4],
				add_messages, ttl) < 0) {
		p->outstanding--;
		redis_down(p, "the sending limits");
	}
}
