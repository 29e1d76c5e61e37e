/*
 * strset.c - open-addressing string set.
 */
#include "autoconfig.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/strset.h"
#include "common/xalloc.h"

struct slot {
	char *s;
	size_t len;
	uint64_t hash;
	void *value;
};

struct strset {
	struct slot *slots;
	size_t cap;	/* a power of two */
	size_t count;
};

/* Keyed: some sets are filled from the network (milter/rep_flush.c). */
static uint64_t hash_of(const char *s, size_t len)
{
	return hash_bytes(s, len);
}

struct strset *strset_new(void)
{
	struct strset *set = xcalloc(1, sizeof(*set));

	set->cap = 16;
	set->slots = xcalloc(set->cap, sizeof(struct slot));
	return set;
}

void strset_free(struct strset **setp)
{
	struct strset *set = *setp;

	if (set == NULL)
		return;
	for (size_t i = 0; i < set->cap; i++)
		free(set->slots[i].s);
	free(set->slots);
	free(set);
	*setp = NULL;
}

static struct slot *find(const struct strset *set, const char *s, size_t len, uint64_t h)
{
	size_t mask = set->cap - 1;

	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct slot *slot = &set->slots[i];
		if (slot->s == NULL ||
		    (slot->hash == h && slot->len == len && memcmp(slot->s, s, len) == 0))
			return slot;
	}
}

static void grow(struct strset *set)
{
	struct slot *old = set->slots;
	size_t old_cap = set->cap;

	set->cap *= 2;
	set->slots = xcalloc(set->cap, sizeof(struct slot));
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].s != NULL)
			*find(set, old[i].s, old[i].len, old[i].hash) = old[i];
	free(old);
}

static struct slot *insert(struct strset *set, const char *s, size_t len)
{
	uint64_t h = hash_of(s, len);
	struct slot *slot;

	if ((set->count + 1) * 4 > set->cap * 3)	/* keep the load under 75% */
		grow(set);
	slot = find(set, s, len, h);
	if (slot->s != NULL)
		return slot;
	slot->s = xstrndup(s, len);
	slot->len = len;
	slot->hash = h;
	set->count++;
	return slot;
}

void strset_add(struct strset *set, const char *s, size_t len)
{
	insert(set, s, len);
}

void *strset_put(struct strset *set, const char *s, size_t len, void *value)
{
	struct slot *slot = insert(set, s, len);
	void *old = slot->value;

	slot->value = value;
	return old;
}

void *strset_get(const struct strset *set, const char *s, size_t len)
{
	return find(set, s, len, hash_of(s, len))->value;
}

bool strset_contains(const struct strset *set, const char *s, size_t len)
{
	return find(set, s, len, hash_of(s, len))->s != NULL;
}

size_t strset_count(const struct strset *set)
{
	return set->count;
}
