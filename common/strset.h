/*
 * strset.h - an immutable-after-build set of strings with O(1) lookup.
 *
 * Built once (by a loader), then only read, so one thread can build the
 * next version while another keeps reading the current one. Open
 * addressing with a keyed hash (hash.h), so that strings from the network
 * cannot be chosen to collide; comparisons are exact (normalize first).
 * A string may carry a value pointer (a map); the set never frees values.
 */
#ifndef LIMRISTEM_STRSET_H
#define LIMRISTEM_STRSET_H

#include <stdbool.h>
#include <stddef.h>

struct strset;

struct strset *strset_new(void);
void strset_free(struct strset **set);
/* Adds a copy of s[0..len); adding a present string is a no-op. */
void strset_add(struct strset *set, const char *s, size_t len);
/* Adds s if needed and sets its value; returns the previous value. */
void *strset_put(struct strset *set, const char *s, size_t len, void *value);
/* The value of s, or NULL when absent (or added without a value). */
void *strset_get(const struct strset *set, const char *s, size_t len);
bool strset_contains(const struct strset *set, const char *s, size_t len);
size_t strset_count(const struct strset *set);

#endif
