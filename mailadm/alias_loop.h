/*
 * alias_loop.h - would a new alias entry make Postfix's virtual alias
 * expansion go round for ever?
 *
 * The walk follows what virtual_alias_maps (sql/postfix/virtual_aliases.cf:
 * aliases and redirects) resolves, the way Postfix's cleanup expands it:
 *   - the key of an address is its internal form folded to lowercase (a
 *     quoted local part unquoted), as Postfix looks it up; the table's
 *     sources are stored in lowercase, so "CA@LOCAL.EXAMPLE" is ca@...;
 *   - an address with entries of its own expands to them; one without
 *     expands to the entries of "@domain", the catch-all, if there are any;
 *   - an address among its own results is delivered, not expanded again,
 *     which ends any circle through it.
 * Adding SOURCE -> DESTINATION loops when, from DESTINATION, expanding as
 * above with the new entry in place, an expansion comes back to an address
 * it is still expanding (through the new entry, or into a circle that was
 * already there). The walk visits at most ALIAS_WALK_MAX addresses and
 * ALIAS_WALK_EDGES_MAX results, as Postfix gives up past 1000 too.
 *
 * Pure apart from the lookup callback, so the rules have a unit table.
 */
#ifndef LIMRISTEM_MAILADM_ALIAS_LOOP_H
#define LIMRISTEM_MAILADM_ALIAS_LOOP_H

#include <stddef.h>

#include "common/addr.h"

#define ALIAS_WALK_MAX 1000
#define ALIAS_WALK_EDGES_MAX 10000
#define ALIAS_KEY_MAX (ADDR_MAX + 1)

struct alias_results {
	char **items;		/* as stored (strdup'ed) */
	size_t count, cap;
};

/* Appends to results the destinations of key ("local@domain" or "@domain",
 * lowercase) that Postfix would get: active aliases, active redirects and,
 * for a redirect that keeps a copy, the key itself. Returns 0, or -1 when
 * it cannot tell (a database error). */
typedef int alias_lookup_fn(const char *key, struct alias_results *results, void *arg);

void alias_results_add(struct alias_results *results, const char *destination);
void alias_results_clear(struct alias_results *results);

enum alias_walk_result {
	ALIAS_WALK_NO_LOOP,
	ALIAS_WALK_LOOP,	/* path_r shows the circle */
	ALIAS_WALK_TOO_MANY,	/* more than the limits to look at */
	ALIAS_WALK_FAILED,	/* the lookup failed */
};

/* The lookup key of an address (see above); -1 when it is not one. */
int alias_key(const char *address, char out[ALIAS_KEY_MAX]);

/* Would source -> destination loop? source is a key ("a@x" or "@x"),
 * destination an address as it would be stored. On ALIAS_WALK_LOOP path_r
 * holds the circle ("a@x -> @y -> b@y -> a@x"), shortened with "..." when
 * it does not fit. */
enum alias_walk_result alias_walk(const char *source, const char *destination,
				  alias_lookup_fn *lookup, void *arg, char *path_r, size_t pathlen);

#endif
