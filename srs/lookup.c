/*
 * lookup.c - what the forward and reverse maps answer.
 *
 * forward: the null sender, an address without a domain, a sender in a
 *   local domain or already in the SRS domain: NOTFOUND (Postfix keeps it).
 *   Anything else: OK with its SRS0 (or SRS1) form.
 * reverse: only addresses in the SRS domain are ours to reverse. A valid
 *   one: OK with the address it stands for. A bad hash or an expired
 *   timestamp: NOTFOUND, so Postfix bounces the message instead of
 *   delivering it to whoever forged or replayed the address.
 */
#include "autoconfig.h"

#include <string.h>
#include <strings.h>

#include "srs/lookup.h"

const char *srsd_map_name(enum srsd_map map)
{
	static const char *const names[] = { "forward", "reverse", "unknown" };
	return names[map];
}

const char *srsd_outcome_name(enum srsd_outcome outcome)
{
	static const char *const names[] = { "rewritten", "unchanged", "refused", "error" };
	return names[outcome];
}

/* Answers NOTFOUND (or PERM for an error) and records why. */
static void answer(struct strbuf *out, struct srsd_answer *a, enum srsd_outcome outcome,
		   const char *why)
{
	a->outcome = outcome;
	a->why = why;
	if (outcome == SRSD_ERROR)
		socketmap_reply(out, SOCKETMAP_PERM, why);
	else
		socketmap_reply(out, SOCKETMAP_NOTFOUND, "");
}

static void rewritten(struct strbuf *out, struct srsd_answer *a, const char *result)
{
	a->outcome = SRSD_REWRITTEN;
	socketmap_reply(out, SOCKETMAP_OK, result);
}

static void lookup_forward(const struct srsd_maps *maps, const char *key, int64_t now,
			   struct strbuf *out, struct srsd_answer *a)
{
	char result[SRS_ADDRESS_MAX];
	const char *at = strrchr(key, '@');

	if (key[0] == '\0') {
		answer(out, a, SRSD_UNCHANGED, "null sender");
	} else if (at == NULL || at == key || at[1] == '\0') {
		answer(out, a, SRSD_UNCHANGED, "no domain");
	} else if (domain_set_contains(maps->local_domains, at + 1, strlen(at + 1))) {
		answer(out, a, SRSD_UNCHANGED, "local domain");
	} else {
		a->srs_result = srs_forward(maps->srs, key, maps->srs_domain, now, result, sizeof(result));
		if (a->srs_result == SRS_OK)
			rewritten(out, a, result);
		else
			answer(out, a, a->srs_result == SRS_NOT_REWRITTEN ? SRSD_UNCHANGED : SRSD_REFUSED,
			       srs_result_text(a->srs_result));
	}
}

static void lookup_reverse(const struct srsd_maps *maps, const char *key, int64_t now,
			   struct strbuf *out, struct srsd_answer *a)
{
	char result[SRS_ADDRESS_MAX];
	const char *at = strrchr(key, '@');

	if (at == NULL || strcasecmp(at + 1, maps->srs_domain) != 0) {
		answer(out, a, SRSD_UNCHANGED, "not in the SRS domain");
		return;
	}
	a->srs_result = srs_reverse(maps->srs, key, now, result, sizeof(result));
	if (a->srs_result == SRS_OK)
		rewritten(out, a, result);
	else
		answer(out, a, a->srs_result == SRS_NOT_SRS ? SRSD_UNCHANGED : SRSD_REFUSED,
		       srs_result_text(a->srs_result));
}

void srsd_lookup(const struct srsd_maps *maps, const struct socketmap_request *req,
		 int64_t now, struct strbuf *out, struct srsd_answer *answer_r)
{
	char key[SRS_ADDRESS_MAX];

	memset(answer_r, 0, sizeof(*answer_r));
	answer_r->map = strcmp(req->name, "forward") == 0 ? SRSD_MAP_FORWARD
		: strcmp(req->name, "reverse") == 0 ? SRSD_MAP_REVERSE : SRSD_MAP_UNKNOWN;
	if (answer_r->map == SRSD_MAP_UNKNOWN || req->key_len >= sizeof(key)) {
		answer(out, answer_r, SRSD_ERROR, answer_r->map == SRSD_MAP_UNKNOWN
		       ? "unknown map (forward and reverse exist)" : "key too long");
		return;
	}
	memcpy(key, req->key, req->key_len);
	key[req->key_len] = '\0';
	if (answer_r->map == SRSD_MAP_FORWARD)
		lookup_forward(maps, key, now, out, answer_r);
	else
		lookup_reverse(maps, key, now, out, answer_r);
}
