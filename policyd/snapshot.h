/*
 * snapshot.h - policyd's read-only copy of the tables its checks need:
 * accounts (quota, sending limits, hold), their quota usage, aliases and
 * spam traps.
 *
 * Loaded by a table_source thread from MariaDB, swapped into the event
 * loop whole, then only read: while the database is down the last good
 * snapshot keeps answering. Addresses are lowercase.
 */
#ifndef LIMRISTEM_POLICY_SNAPSHOT_H
#define LIMRISTEM_POLICY_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/db.h"

#define ACCOUNT_LIMIT_DEFAULT (-1)	/* the account has no limit of its own */

struct account {
	char *email;
	long long quota_bytes;		/* 0: no quota */
	long long used_bytes;		/* from quota_usage; 0 when Dovecot has not written yet */
	long long limit_messages;	/* ACCOUNT_LIMIT_DEFAULT or a number */
	long long limit_recipients;
	bool active;
	bool held;			/* sending_held_at is set */
};

struct alias_targets {
	size_t count;
	char **destinations;		/* lowercase addresses */
};

struct snapshot;

/* An empty snapshot (no database configured). */
struct snapshot *snapshot_new_empty(void);
/* Builds one from the database; NULL with err. */
struct snapshot *snapshot_load(struct db *db, char *err, size_t errlen);
void snapshot_free(struct snapshot **snap);

/* addr must be lowercase. NULL when absent. */
const struct account *snapshot_account(const struct snapshot *snap, const char *addr);
const struct alias_targets *snapshot_alias(const struct snapshot *snap, const char *addr);
bool snapshot_is_trap(const struct snapshot *snap, const char *addr);

size_t snapshot_account_count(const struct snapshot *snap);
size_t snapshot_trap_count(const struct snapshot *snap);
size_t snapshot_alias_count(const struct snapshot *snap);

/* For unit tests: add rows by hand. */
struct account *snapshot_add_account(struct snapshot *snap, const char *email);
void snapshot_add_alias(struct snapshot *snap, const char *source, const char *destination);
void snapshot_add_trap(struct snapshot *snap, const char *addr);

#endif
