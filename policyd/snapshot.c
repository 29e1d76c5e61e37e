/*
 * snapshot.c - load and look up policyd's copy of the tables.
 *
 * Three queries, each a full read of a small table (accounts with their
 * usage, active aliases, traps); a site with 100,000 accounts loads in well
 * under a second. Strings live in the snapshot's own arrays.
 */
#include "autoconfig.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/number.h"
#include "common/strset.h"
#include "common/xalloc.h"
#include "policyd/snapshot.h"

#define MIB (1024LL * 1024)

struct snapshot {
	struct strset *accounts;	/* email -> struct account * */
	struct strset *aliases;		/* source -> struct alias_targets * */
	struct strset *traps;
	struct account **account_list;	/* owned */
	size_t account_count, account_cap;
	struct alias_targets **alias_list;	/* owned */
	size_t alias_count, alias_cap;
};

struct snapshot *snapshot_new_empty(void)
{
	struct snapshot *snap = xcalloc(1, sizeof(*snap));

	snap->accounts = strset_new();
	snap->aliases = strset_new();
	snap->traps = strset_new();
	return snap;
}

struct account *snapshot_add_account(struct snapshot *snap, const char *email)
{
	struct account *a = xcalloc(1, sizeof(*a));

	a->email = xstrdup(email);
	a->limit_messages = a->limit_recipients = ACCOUNT_LIMIT_DEFAULT;
	a->active = true;
	snap->account_list = xgrow(snap->account_list, &snap->account_cap, snap->account_count + 1,
				   sizeof(*snap->account_list));
	snap->account_list[snap->account_count++] = a;
	strset_put(snap->accounts, email, strlen(email), a);
	return a;
}

void snapshot_add_alias(struct snapshot *snap, const char *source, const char *destination)
{
	struct alias_targets *t = strset_get(snap->aliases, source, strlen(source));

	if (t == NULL) {
		t = xcalloc(1, sizeof(*t));
		snap->alias_list = xgrow(snap->alias_list, &snap->alias_cap, snap->alias_count + 1,
					 sizeof(*snap->alias_list));
		snap->alias_list[snap->alias_count++] = t;
		strset_put(snap->aliases, source, strlen(source), t);
	}
	t->destinations = xrealloc(t->destinations, (t->count + 1) * sizeof(*t->destinations));
	t->destinations[t->count++] = xstrdup(destination);
}

void snapshot_add_trap(struct snapshot *snap, const char *addr)
{
	strset_add(snap->traps, addr, strlen(addr));
}

void snapshot_free(struct snapshot **snapp)
{
	struct snapshot *snap = *snapp;

	if (snap == NULL)
		return;
	for (size_t i = 0; i < snap->account_count; i++) {
		free(snap->account_list[i]->email);
		free(snap->account_list[i]);
	}
	for (size_t i = 0; i < snap->alias_count; i++) {
		for (size_t j = 0; j < snap->alias_list[i]->count; j++)
			free(snap->alias_list[i]->destinations[j]);
		free(snap->alias_list[i]->destinations);
		free(snap->alias_list[i]);
	}
	free(snap->account_list);
	free(snap->alias_list);
	strset_free(&snap->accounts);
	strset_free(&snap->aliases);
	strset_free(&snap->traps);
	free(snap);
	*snapp = NULL;
}

/* A column as a number in [min, max] (saturated), or fallback for NULL or
 * for what is not a number at all. */
static long long number_or(const char *s, long long min, long long max, long long fallback)
{
	long long v;

	if (s == NULL || number_parse_str(s, min, max, &v) == NUMBER_INVALID)
		return fallback;
	return v;
}

static void lowercase(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

static int add_account_row(const struct db_row *row, void *arg)
{
	struct account *a;

	if (row->values[0] == NULL)
		return 0;
	a = snapshot_add_account(arg, row->values[0]);
	/* the database's constraints keep these in range; they are checked
	 * again so that no product or sum downstream can overflow */
	a->quota_bytes = number_or(row->values[1], 0, INT64_MAX / MIB, 0) * MIB;
	a->used_bytes = number_or(row->values[2], 0, INT64_MAX, 0);	/* Dovecot may go below 0 */
	a->limit_messages = number_or(row->values[3], 0, INT32_MAX, ACCOUNT_LIMIT_DEFAULT);
	a->limit_recipients = number_or(row->values[4], 0, INT32_MAX, ACCOUNT_LIMIT_DEFAULT);
	a->active = number_or(row->values[5], 0, 1, 1) != 0;
	a->held = number_or(row->values[6], 0, 1, 0) != 0;
	return 0;
}

static int add_alias_row(const struct db_row *row, void *arg)
{
	char *dest;

	if (row->values[0] == NULL || row->values[1] == NULL)
		return 0;
	dest = xstrdup(row->values[1]);
	lowercase(dest);
	snapshot_add_alias(arg, row->values[0], dest);
	free(dest);
	return 0;
}

static int add_trap_row(const struct db_row *row, void *arg)
{
	if (row->values[0] != NULL)
		snapshot_add_trap(arg, row->values[0]);
	return 0;
}

struct snapshot *snapshot_load(struct db *db, char *err, size_t errlen)
{
	struct snapshot *snap = snapshot_new_empty();
	static const struct { const char *sql; db_row_callback *add; const char *what; } q[] = {
		{ "SELECT a.email, a.quota_mb, q.bytes, a.send_limit_messages, "
		  "a.send_limit_recipients, a.active, a.sending_held_at IS NOT NULL "
		  "FROM accounts a LEFT JOIN quota_usage q ON q.username = a.email",
		  add_account_row, "accounts" },
		{ "SELECT source, destination FROM aliases WHERE active = 1", add_alias_row, "aliases" },
		{ "SELECT address FROM spam_traps", add_trap_row, "spam_traps" },
	};

	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		if (db_query(db, q[i].sql, NULL, 0, q[i].add, snap) != DB_OK) {
			snprintf(err, errlen, "reading %s: %s", q[i].what, db_error(db));
			snapshot_free(&snap);
			return NULL;
		}
	}
	return snap;
}

const struct account *snapshot_account(const struct snapshot *snap, const char *addr)
{
	return strset_get(snap->accounts, addr, strlen(addr));
}

const struct alias_targets *snapshot_alias(const struct snapshot *snap, const char *addr)
{
	return strset_get(snap->aliases, addr, strlen(addr));
}

bool snapshot_is_trap(const struct snapshot *snap, const char *addr)
{
	return strset_contains(snap->traps, addr, strlen(addr));
}

size_t snapshot_account_count(const struct snapshot *snap)
{
	return snap->account_count;
}

size_t snapshot_trap_count(const struct snapshot *snap)
{
	return strset_count(snap->traps);
}

size_t snapshot_alias_count(const struct snapshot *snap)
{
	return snap->alias_count;
}
