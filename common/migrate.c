/*
 * migrate.c - apply sql/migrations in order, once each.
 */
#include "autoconfig.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/migrate.h"
#include "common/sql_split.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

#define MIGRATION_FILE_MAX (4 * 1024 * 1024)
#define MIGRATE_LOCK "limristem.migrate"
#define MIGRATE_LOCK_WAIT_S 30

int migration_parse_filename(const char *filename, unsigned *version_r,
			     char *name, size_t namelen)
{
	size_t len = strlen(filename), stem;
	unsigned version = 0;

	if (len < 10 || strcmp(filename + len - 4, ".sql") != 0 || filename[4] != '_')
		return -1;
	for (int i = 0; i < 4; i++) {
		if (filename[i] < '0' || filename[i] > '9')
			return -1;
		version = version * 10 + (unsigned)(filename[i] - '0');
	}
	stem = len - 4 - 5;
	if (version == 0 || stem == 0 || stem >= namelen)
		return -1;
	for (size_t i = 5; i < len - 4; i++) {
		char c = filename[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return -1;
	}
	memcpy(name, filename + 5, stem);
	name[stem] = '\0';
	*version_r = version;
	return 0;
}

static int by_version(const void *a, const void *b)
{
	const struct migration *x = a, *y = b;
	return (x->version > y->version) - (x->version < y->version);
}

int migration_list_read(const char *dir, struct migration_list *list_r,
			char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t cap = 0;

	list_r->items = NULL;
	list_r->count = 0;
	if (d == NULL) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		char name[128];
		unsigned version;
		struct strbuf path = STRBUF_INIT;

		if (e->d_name[0] == '.')
			continue;
		if (migration_parse_filename(e->d_name, &version, name, sizeof(name)) < 0) {
			snprintf(err, errlen, "%s/%s: not a migration file name (NNNN_name.sql)", dir, e->d_name);
			closedir(d);
			migration_list_free(list_r);
			return -1;
		}
		strbuf_appendf(&path, "%s/%s", dir, e->d_name);
		list_r->items = xgrow(list_r->items, &cap, list_r->count + 1, sizeof(struct migration));
		list_r->items[list_r->count++] = (struct migration){ version, xstrdup(name),
								     strbuf_detach(&path) };
	}
	closedir(d);
	qsort(list_r->items, list_r->count, sizeof(struct migration), by_version);
	for (size_t i = 1; i < list_r->count; i++) {
		if (list_r->items[i].version == list_r->items[i - 1].version) {
			snprintf(err, errlen, "%s: version %04u appears twice", dir, list_r->items[i].version);
			migration_list_free(list_r);
			return -1;
		}
	}
	return 0;
}

void migration_list_free(struct migration_list *list)
{
	for (size_t i = 0; i < list->count; i++) {
		free(list->items[i].name);
		free(list->items[i].path);
	}
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

static int first_number(const struct db_row *row, void *arg)
{
	unsigned *n = arg;

	*n = row->values[0] != NULL ? (unsigned)strtoul(row->values[0], NULL, 10) : 0;
	return 1;
}

int migrate_current_version(struct db *db, unsigned *version_r)
{
	unsigned exists = 0;
	int ret;

	*version_r = 0;
	ret = db_query(db, "SELECT COUNT(*) FROM information_schema.tables "
		       "WHERE table_schema = DATABASE() AND table_name = 'schema_version'",
		       NULL, 0, first_number, &exists);
	if (ret != DB_OK || exists == 0)
		return ret;
	return db_query(db, "SELECT COALESCE(MAX(version), 0) FROM schema_version",
			NULL, 0, first_number, version_r);
}

static int read_script(const char *path, struct strbuf *text, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "r");
	char buf[8192];
	size_t n;

	if (fp == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0 && text->len <= MIGRATION_FILE_MAX)
		strbuf_append(text, buf, n);
	fclose(fp);
	if (text->len > MIGRATION_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than 4 MiB", path);
		return -1;
	}
	return 0;
}

static void sha256_hex(const struct strbuf *text, char out[65])
{
	unsigned char digest[32];
	unsigned int len = 0;

	EVP_Digest(text->data, text->len, digest, &len, EVP_sha256(), NULL);
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

int migration_checksum(const struct migration *m, char out[65], char *err, size_t errlen)
{
	struct strbuf text = STRBUF_INIT;
	int ret = read_script(m->path, &text, err, errlen);

	if (ret == 0)
		sha256_hex(&text, out);
	strbuf_release(&text);
	return ret;
}

static int apply_one(struct db *db, const struct migration *m, char *err, size_t errlen)
{
	struct strbuf text = STRBUF_INIT;
	struct sql_statement st;
	size_t pos = 0;
	unsigned line = 1;
	char checksum[65];
	int r;

	if (read_script(m->path, &text, err, errlen) < 0) {
		strbuf_release(&text);
		return -1;
	}
	while ((r = sql_next_statement(text.data, text.len, &pos, &line, &st)) == 1) {
		char *sql = xstrndup(st.text, st.len);
		int ret = db_exec(db, sql, NULL, 0, NULL);
		free(sql);
		if (ret != DB_OK) {
			snprintf(err, errlen, "%s:%u: %s", m->path, st.line, db_error(db));
			strbuf_release(&text);
			return -1;
		}
	}
	if (r < 0) {
		snprintf(err, errlen, "%s:%u: unterminated quote or comment", m->path, st.line);
		strbuf_release(&text);
		return -1;
	}
	sha256_hex(&text, checksum);
	strbuf_release(&text);
	struct db_param params[] = { DB_INT(m->version), DB_STR(m->name), DB_STR(checksum) };
	if (db_exec(db, "INSERT INTO schema_version (version, name, checksum) VALUES (?, ?, ?)",
		    params, 3, NULL) != DB_OK) {
		snprintf(err, errlen, "%s: recording version %u: %s", m->path, m->version, db_error(db));
		return -1;
	}
	log_info("migrate: applied %04u_%s", m->version, m->name);
	return 0;
}

static int lock_migrations(struct db *db, bool take, char *err, size_t errlen)
{
	unsigned got = 0;
	struct db_param params[] = { DB_STR(MIGRATE_LOCK), DB_INT(MIGRATE_LOCK_WAIT_S) };
	int ret = take ? db_query(db, "SELECT GET_LOCK(?, ?)", params, 2, first_number, &got)
		       : db_query(db, "SELECT RELEASE_LOCK(?)", params, 1, first_number, &got);

	if (take && (ret != DB_OK || got != 1)) {
		snprintf(err, errlen, "cannot take the migration lock: %s",
			 ret != DB_OK ? db_error(db) : "another migration is running");
		return -1;
	}
	return 0;
}

static int apply_list(struct db *db, const struct migration_list *list, unsigned *applied_r,
		      char *err, size_t errlen)
{
	unsigned current, newest = list->count > 0 ? list->items[list->count - 1].version : 0;

	if (migrate_current_version(db, &current) != DB_OK) {
		snprintf(err, errlen, "reading the schema version: %s", db_error(db));
		return -1;
	}
	if (current > newest) {
		snprintf(err, errlen, "the database schema is at version %u, newer than this program "
			 "knows (%u): upgrade limristem before touching it", current, newest);
		return -1;
	}
	for (size_t i = 0; i < list->count; i++) {
		if (list->items[i].version <= current)
			continue;
		if (apply_one(db, &list->items[i], err, errlen) < 0)
			return -1;
		(*applied_r)++;
	}
	return 0;
}

int migrate_apply(struct db *db, const char *dir, unsigned *applied_r, char *err, size_t errlen)
{
	struct migration_list list;
	int ret;

	*applied_r = 0;
	if (migration_list_read(dir, &list, err, errlen) < 0)
		return -1;
	if (db_connect(db) != DB_OK) {
		snprintf(err, errlen, "%s", db_error(db));
		migration_list_free(&list);
		return -1;
	}
	if (lock_migrations(db, true, err, errlen) < 0) {
		migration_list_free(&list);
		return -1;
	}
	ret = apply_list(db, &list, applied_r, err, errlen);
	lock_migrations(db, false, NULL, 0);
	migration_list_free(&list);
	return ret;
}
