/*
 * alias_loop.c - the walk of Postfix's virtual alias expansion (see
 * alias_loop.h): a depth-first search over lookup results, with the new
 * entry in place, that fails on an address reached again while it is
 * still being expanded.
 */
#include "autoconfig.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "common/strset.h"
#include "common/xalloc.h"
#include "mailadm/alias_loop.h"

enum node_state { NODE_EXPANDING = 1, NODE_DONE };

struct node {
	char key[ALIAS_KEY_MAX];
	enum node_state state;
	bool via_catch_all;	/* resolved through "@domain" */
};

struct frame {
	size_t node;
	struct alias_results next;	/* the node's results, as keys */
	size_t at;
};

struct walk {
	const char *source;		/* the new entry's source key */
	char destination[ALIAS_KEY_MAX];	/* ... and its destination's key */
	alias_lookup_fn *lookup;
	void *arg;
	struct node *nodes;
	size_t node_count, node_cap, edges;
	struct strset *index;		/* key -> node number + 1 */
	struct frame *stack;
	size_t depth, stack_cap;
};

void alias_results_add(struct alias_results *r, const char *destination)
{
	r->items = xgrow(r->items, &r->cap, r->count + 1, sizeof(char *));
	r->items[r->count++] = xstrdup(destination);
}

void alias_results_clear(struct alias_results *r)
{
	for (size_t i = 0; i < r->count; i++)
		free(r->items[i]);
	free(r->items);
	memset(r, 0, sizeof(*r));
}

static char fold(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

int alias_key(const char *address, char out[ALIAS_KEY_MAX])
{
	const char *at = strrchr(address, '@'), *p = address;
	size_t n = 0;

	if (at == NULL)
		return -1;
	if (*p == '"') {	/* the internal form: quotes and backslashes gone */
		for (p++; p < at && *p != '"'; p++) {
			if (*p == '\\' && p + 1 < at)
				p++;
			if (n + 1 >= ALIAS_KEY_MAX)
				return -1;
			out[n++] = fold(*p);
		}
		if (p + 1 != at)
			return -1;	/* not "quoted"@domain */
		p = at;
	}
	for (; *p != '\0'; p++) {
		if (n + 1 >= ALIAS_KEY_MAX)
			return -1;
		out[n++] = fold(*p);
	}
	out[n] = '\0';
	return 0;
}

/* The results of a key, as keys; an unreadable destination can match no
 * source and is left out. */
static int lookup_keys(struct walk *w, const char *key, struct alias_results *keys_r)
{
	struct alias_results raw = { 0 };
	char k[ALIAS_KEY_MAX];
	int rc = w->lookup(key, &raw, w->arg);

	for (size_t i = 0; rc == 0 && i < raw.count; i++)
		if (alias_key(raw.items[i], k) == 0)
			alias_results_add(keys_r, k);
	alias_results_clear(&raw);
	return rc;
}

static bool contains(const struct alias_results *r, const char *key)
{
	for (size_t i = 0; i < r->count; i++)
		if (strcmp(r->items[i], key) == 0)
			return true;
	return false;
}

/* What node expands to, with the new entry in place: its own entries, or
 * else its domain's catch-all. */
static int expand(struct walk *w, size_t node, struct alias_results *next_r)
{
	struct node *n = &w->nodes[node];
	const char *at = strchr(n->key, '@');
	char catch_all[ALIAS_KEY_MAX];

	if (lookup_keys(w, n->key, next_r) < 0)
		return -1;
	if (strcmp(n->key, w->source) == 0)
		alias_results_add(next_r, w->destination);
	if (next_r->count > 0 || at == NULL || at == n->key)
		return 0;
	snprintf(catch_all, sizeof(catch_all), "%s", at);	/* fits: a suffix of the key */
	n->via_catch_all = true;
	if (lookup_keys(w, catch_all, next_r) < 0)
		return -1;
	if (strcmp(catch_all, w->source) == 0)
		alias_results_add(next_r, w->destination);
	return 0;
}

/* Starts expanding key: a new node, on the stack unless it resolves to
 * itself (then it is delivered and ends here). */
static enum alias_walk_result visit(struct walk *w, const char *key)
{
	struct alias_results next = { 0 };
	size_t i = w->node_count;

	if (w->node_count >= ALIAS_WALK_MAX)
		return ALIAS_WALK_TOO_MANY;
	w->nodes = xgrow(w->nodes, &w->node_cap, w->node_count + 1, sizeof(*w->nodes));
	memset(&w->nodes[i], 0, sizeof(w->nodes[i]));
	snprintf(w->nodes[i].key, sizeof(w->nodes[i].key), "%s", key);
	w->node_count++;
	strset_put(w->index, key, strlen(key), (void *)(uintptr_t)(i + 1));
	if (expand(w, i, &next) < 0) {
		alias_results_clear(&next);
		return ALIAS_WALK_FAILED;
	}
	if ((w->edges += next.count) > ALIAS_WALK_EDGES_MAX) {
		alias_results_clear(&next);
		return ALIAS_WALK_TOO_MANY;
	}
	if (next.count == 0 || contains(&next, key)) {
		w->nodes[i].state = NODE_DONE;
		alias_results_clear(&next);
		return ALIAS_WALK_NO_LOOP;
	}
	w->nodes[i].state = NODE_EXPANDING;
	w->stack = xgrow(w->stack, &w->stack_cap, w->depth + 1, sizeof(*w->stack));
	w->stack[w->depth++] = (struct frame){ i, next, 0 };
	return ALIAS_WALK_NO_LOOP;
}

/* The circle: from the node reached again, down the stack, back to it;
 * "..." at the end when it does not fit. */
static void describe(const struct walk *w, size_t again, char *out, size_t outlen)
{
	struct strbuf path = STRBUF_INIT;
	size_t from = 0;

	while (w->stack[from].node != again)
		from++;
	for (size_t f = from; f < w->depth; f++) {
		const struct node *n = &w->nodes[w->stack[f].node];

		strbuf_appendf(&path, "%s -> ", n->key);
		if (n->via_catch_all)
			strbuf_appendf(&path, "%s -> ", strchr(n->key, '@'));
	}
	strbuf_append_str(&path, w->nodes[again].key);
	if (outlen > 0 && snprintf(out, outlen, "%s", strbuf_str(&path)) >= (int)outlen &&
	    outlen > 4)
		strcpy(out + outlen - 4, "...");
	strbuf_release(&path);
}

static enum alias_walk_result run(struct walk *w, char *path_r, size_t pathlen)
{
	enum alias_walk_result r = visit(w, w->destination);

	while (r == ALIAS_WALK_NO_LOOP && w->depth > 0) {
		struct frame *top = &w->stack[w->depth - 1];
		const char *key;
		uintptr_t seen;

		if (top->at == top->next.count) {
			w->nodes[top->node].state = NODE_DONE;
			alias_results_clear(&top->next);
			w->depth--;
			continue;
		}
		key = top->next.items[top->at++];
		seen = (uintptr_t)strset_get(w->index, key, strlen(key));
		if (seen == 0)
			r = visit(w, key);
		else if (w->nodes[seen - 1].state == NODE_EXPANDING) {
			describe(w, seen - 1, path_r, pathlen);
			r = ALIAS_WALK_LOOP;
		}
	}
	return r;
}

enum alias_walk_result alias_walk(const char *source, const char *destination,
				  alias_lookup_fn *lookup, void *arg, char *path_r, size_t pathlen)
{
	struct walk w = { .source = source, .lookup = lookup, .arg = arg };
	enum alias_walk_result r;

	if (pathlen > 0)
		path_r[0] = '\0';
	if (alias_key(destination, w.destination) < 0)
		return ALIAS_WALK_NO_LOOP;	/* no source can be such an address */
	if (strcmp(w.destination, source) == 0) {
		snprintf(path_r, pathlen, "%s -> %s", source, w.destination);
		return ALIAS_WALK_LOOP;
	}
	w.index = strset_new();
	r = run(&w, path_r, pathlen);
	while (w.depth > 0)
		alias_results_clear(&w.stack[--w.depth].next);
	free(w.stack);
	free(w.nodes);
	strset_free(&w.index);
	return r;
}
