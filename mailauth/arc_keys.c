/*
 * arc_keys.c - per-message cache of ARC signing keys. Each pair is looked
 * up once per message; its record is parsed through the process-wide
 * dkim_keycache.h, so a record seen before costs no decoding.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/xalloc.h"
#include "mailauth/arc_keys.h"
#include "mailauth/dkim_keycache.h"

/* Two per instance (distinct AMS and AS keys in every set) at most. */
#define KEYS_MAX (2 * ARC_INSTANCE_MAX)

struct key_entry {
	char selector[ARC_NAME_MAX + 1];
	char domain[ARC_NAME_MAX + 1];
	struct dkim_pubkey *key;	/* NULL: why says what went wrong */
	const char *why;
	bool tempfail;
};

struct arc_keys {
	dkim_key_lookup_fn *lookup;
	void *ctx;
	unsigned min_rsa_bits;
	size_t max_lookups;
	size_t count;
	struct key_entry entries[KEYS_MAX];
};

struct arc_keys *arc_keys_new(dkim_key_lookup_fn *lookup, void *ctx, unsigned min_rsa_bits,
			      unsigned max_lookups)
{
	struct arc_keys *keys = xcalloc(1, sizeof(*keys));

	keys->lookup = lookup;
	keys->ctx = ctx;
	keys->min_rsa_bits = min_rsa_bits ? min_rsa_bits : DKIM_RSA_MIN_BITS_DEFAULT;
	keys->max_lookups = max_lookups ? max_lookups : ARC_KEY_LOOKUPS_DEFAULT;
	if (keys->max_lookups > KEYS_MAX)
		keys->max_lookups = KEYS_MAX;
	return keys;
}

static void fetch(struct arc_keys *keys, struct key_entry *e)
{
	char *txt = NULL;
	enum dkim_key_status st = keys->lookup == NULL ? DKIM_KEY_NOTFOUND
		: keys->lookup(keys->ctx, e->selector, e->domain, &txt);

	if (st == DKIM_KEY_OK && txt == NULL)
		st = DKIM_KEY_NOTFOUND;
	switch (st) {
	case DKIM_KEY_OK:
		if (dkim_keycache_parse(txt, strlen(txt), &e->key, &e->why) < 0)
			e->key = NULL;
		break;
	case DKIM_KEY_TEMPFAIL:
		e->why = "the key lookup failed temporarily";
		e->tempfail = true;
		break;
	default:
		e->why = "no key is published for s= and d=";
		break;
	}
	free(txt);
}

static struct key_entry *find_or_fetch(struct arc_keys *keys, const struct arc_sig *sig)
{
	for (size_t i = 0; i < keys->count; i++) {
		struct key_entry *e = &keys->entries[i];
		if (strcasecmp(e->selector, sig->selector) == 0 && strcmp(e->domain, sig->domain) == 0)
			return e;
	}
	if (keys->count == keys->max_lookups)
		return NULL;
	struct key_entry *e = &keys->entries[keys->count++];
	memcpy(e->selector, sig->selector, sizeof(e->selector));
	memcpy(e->domain, sig->domain, sizeof(e->domain));
	fetch(keys, e);
	return e;
}

const struct dkim_pubkey *arc_keys_get(struct arc_keys *keys, const struct arc_sig *sig,
				       bool *tempfail_r, const char **why_r)
{
	struct key_entry *e = find_or_fetch(keys, sig);

	if (e == NULL) {
		*why_r = "more distinct keys than max_key_lookups";
		return NULL;
	}
	if (e->key == NULL) {
		*tempfail_r = *tempfail_r || e->tempfail;
		*why_r = e->why;
		return NULL;
	}
	if (e->key->type != dkim_alg_key_type(sig->alg)) {
		*why_r = "the key is not of the type a= names";
		return NULL;
	}
	if (e->key->type == DKIM_KEY_RSA && e->key->bits < keys->min_rsa_bits) {
		*why_r = "the RSA key is shorter than the minimum";
		return NULL;
	}
	return e->key;
}

void arc_keys_free(struct arc_keys **keys)
{
	if (*keys == NULL)
		return;
	for (size_t i = 0; i < (*keys)->count; i++)
		dkim_pubkey_free(&(*keys)->entries[i].key);
	free(*keys);
	*keys = NULL;
}
