/*
 * reputation.c - decayed reputation counters in Redis (see reputation.h).
 */
#include "autoconfig.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/redis.h"
#include "common/reputation.h"

const char *rep_type_name(enum rep_type type)
{
	static const char *const names[] = { "ip", "network", "spf_domain", "dkim_domain" };

	return (unsigned)type < REP_TYPE_COUNT ? names[type] : "?";
}

double rep_decay(double value, int64_t age_s, int64_t halflife_s)
{
	if (age_s <= 0 || halflife_s <= 0)
		return value;
	return value * exp2(-(double)age_s / (double)halflife_s);
}

int rep_key(const char *prefix, enum rep_type type, const char *entity, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%srep:%s:%s", prefix, rep_type_name(type), entity);

	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* KEYS: the entities. Returns, per entity, its fields (false when absent). */
static const char read_script[] =
	"local out = {}\n"
	"for i, k in ipairs(KEYS) do\n"
	"  out[i] = redis.call('HMGET', k, 'good', 'bad', 'rejected', 't', 'trap_hits', 'listed')\n"
	"end\n"
	"return out\n";

/* KEYS: the entities; ARGV: now, half-life, lifetime (s), then the deltas
 * of good, bad and rejected. The decay is rep_decay()'s. A half-life of 0
 * is the one the milter stored with the entity (mailadm learn does not
 * read the milter's settings); a lifetime of 0 keeps the entity's expiry. */
static const char add_script[] =
	"local now, hl, life = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])\n"
	"local delta = { tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]) }\n"
	"local names = { 'good', 'bad', 'rejected' }\n"
	"for _, k in ipairs(KEYS) do\n"
	"  local v = redis.call('HMGET', k, 'good', 'bad', 'rejected', 't', 'hl')\n"
	"  local h = hl\n"
	"  if h <= 0 then h = tonumber(v[5]) or " REP_DEFAULT_HALFLIFE_TEXT " end\n"
	"  local age = now - (tonumber(v[4]) or now)\n"
	"  local f = 1\n"
	"  if age > 0 and h > 0 then f = 2 ^ (-age / h) end\n"
	"  for i = 1, 3 do\n"
	"    local x = (tonumber(v[i]) or 0) * f + delta[i]\n"
	"    if x < 0 then x = 0 end\n"
	"    redis.call('HSET', k, names[i], string.format('%.4f', x))\n"
	"  end\n"
	"  redis.call('HSET', k, 't', now, 'hl', h)\n"
	"  if life > 0 then redis.call('EXPIRE', k, life)\n"
	"  elseif redis.call('TTL', k) < 0 then redis.call('EXPIRE', k, " REP_DEFAULT_LIFETIME_TEXT ") end\n"
	"end\n"
	"return #KEYS\n";

#define SCRIPT_ARGS_MAX 16

static double field(const redisReply *r, size_t i)
{
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || i >= r->elements ||
	    r->element[i]->type != REDIS_REPLY_STRING)
		return NAN;
	return strtod(r->element[i]->str, NULL);
}

static double or_zero(double v)
{
	return isnan(v) || v < 0 ? 0 : v;
}

static redisReply *eval(rep_command_fn *command, void *ctx, const char *script, size_t n,
			const char *const keys[], size_t nargs, const char *const args[])
{
	const char *argv[3 + SCRIPT_ARGS_MAX];
	char count[16];
	size_t argc = 0;

	if (n + nargs > SCRIPT_ARGS_MAX)
		return NULL;
	snprintf(count, sizeof(count), "%zu", n);
	argv[argc++] = "EVAL";
	argv[argc++] = script;
	argv[argc++] = count;
	for (size_t i = 0; i < n; i++)
		argv[argc++] = keys[i];
	for (size_t i = 0; i < nargs; i++)
		argv[argc++] = args[i];
	return command(ctx, (int)argc, argv, NULL);
}

int rep_redis_read(rep_command_fn *command, void *ctx, size_t n, const char *const keys[],
		   int64_t now_s, int64_t halflife_s, struct rep_counters counters_r[])
{
	redisReply *reply = eval(command, ctx, read_script, n, keys, 0, NULL);
	int rc = -1;

	if (reply != NULL && reply->type == REDIS_REPLY_ARRAY && reply->elements == n) {
		for (size_t i = 0; i < n; i++) {
			const redisReply *e = reply->element[i];
			double t = field(e, 3);
			int64_t age = isnan(t) ? 0 : now_s - (int64_t)t;
			struct rep_counters *c = &counters_r[i];

			c->good = rep_decay(or_zero(field(e, 0)), age, halflife_s);
			c->bad = rep_decay(or_zero(field(e, 1)), age, halflife_s);
			c->rejected = rep_decay(or_zero(field(e, 2)), age, halflife_s);
			c->trap_hits = or_zero(field(e, 4));
			c->listed = or_zero(field(e, 5));
			c->known = !isnan(t) || c->trap_hits > 0 || c->listed > 0;
		}
		rc = 0;
	}
	redis_reply_free(&reply);
	return rc;
}

int rep_redis_add(rep_command_fn *command, void *ctx, size_t n, const char *const keys[],
		  const struct rep_delta *delta, int64_t now_s, int64_t halflife_s,
		  int64_t lifetime_s)
{
	char text[6][32];
	const char *args[6] = { text[0], text[1], text[2], text[3], text[4], text[5] };
	redisReply *reply;
	int rc;

	snprintf(text[0], sizeof(text[0]), "%lld", (long long)now_s);
	snprintf(text[1], sizeof(text[1]), "%lld", (long long)halflife_s);
	snprintf(text[2], sizeof(text[2]), "%lld", (long long)(lifetime_s > 0 ? lifetime_s : 0));
	snprintf(text[3], sizeof(text[3]), "%.4f", delta->good);
	snprintf(text[4], sizeof(text[4]), "%.4f", delta->bad);
	snprintf(text[5], sizeof(text[5]), "%.4f", delta->rejected);
	reply = eval(command, ctx, add_script, n, keys, 6, args);
	rc = reply != NULL && reply->type == REDIS_REPLY_INTEGER ? 0 : -1;
	redis_reply_free(&reply);
	return rc;
}
