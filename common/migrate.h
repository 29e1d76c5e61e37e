/*
 * migrate.h - bring the database schema up to date from sql/migrations.
 *
 * Migrations are files named NNNN_name.sql, applied in order of NNNN, each
 * recorded in schema_version with a SHA-256 of its text. Running again
 * applies nothing; a database with a version newer than the newest file is
 * refused (an older program must not touch a newer schema). A database lock
 * keeps two nodes from migrating at once.
 */
#ifndef LIMRISTEM_MIGRATE_H
#define LIMRISTEM_MIGRATE_H

#include <stddef.h>

#include "common/db.h"

#define MIGRATE_DIR_DEFAULT DATADIR_LIMRISTEM "/sql/migrations"

struct migration {
	unsigned version;
	char *name;		/* "initial" for 0001_initial.sql */
	char *path;
};

struct migration_list {
	struct migration *items;
	size_t count;
};

/* Parses "0001_initial.sql" into version and name. 0 or -1. */
int migration_parse_filename(const char *filename, unsigned *version_r,
			     char *name, size_t namelen);

/* Reads the directory, sorted by version; refuses gaps in naming (a bad
 * file name) and duplicate versions. 0 or -1 with err. */
int migration_list_read(const char *dir, struct migration_list *list_r,
			char *err, size_t errlen);
void migration_list_free(struct migration_list *list);

/* SHA-256 (hex) of a migration file, as recorded when it is applied.
 * 0, or -1 with err. */
int migration_checksum(const struct migration *m, char out[65], char *err, size_t errlen);

/* The highest applied version (0 for an empty database). DB_* result. */
int migrate_current_version(struct db *db, unsigned *version_r);

/* Applies every migration newer than the database; *applied_r says how
 * many. 0, or -1 with err ("file:line: what the server said"). */
int migrate_apply(struct db *db, const char *dir, unsigned *applied_r,
		  char *err, size_t errlen);

#endif
