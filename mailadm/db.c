/*
 * db.c - mailadm db migrate|status: the schema.
 *
 * migrate applies the files of sql/migrations that the database has not
 * seen (common/migrate.c); status shows where the database stands, what is
 * pending, and applied migrations whose file has changed since.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/migrate.h"
#include "common/number.h"
#include "mailadm/nouns.h"
#include "mailadm/output.h"

static const struct field status_fields[] = {
	{ "version", FIELD_NUMBER }, { "name", FIELD_TEXT }, { "state", FIELD_TEXT },
	{ "applied_at", FIELD_TEXT },
};

static const char *migrations_dir(struct cli *cli, const struct cli_args *args)
{
	const char *dir = cli_value(cli, args, "dir");
	return dir != NULL ? dir : MIGRATE_DIR_DEFAULT;
}

static int db_migrate(struct cli *cli, const struct cli_args *args)
{
	char err[1024];
	unsigned applied, version;
	struct db *db = cli_db(cli);

	if (db == NULL)
		return EXIT_UNAVAILABLE;
	if (migrate_apply(db, migrations_dir(cli, args), &applied, err, sizeof(err)) < 0)
		return cli_fail(cli, EXIT_FAILURE_OTHER, "%s", err);
	migrate_current_version(db, &version);
	printf("%u migration%s applied; the schema is at version %u\n", applied,
	       applied == 1 ? "" : "s", version);
	return EXIT_OK;
}

struct applied {
	char checksum[65];
	char applied_at[32];
	bool present;
};

static int collect_applied(const struct db_row *row, void *arg)
{
	struct applied *a = arg;
	long long v;

	if (row->values[0] != NULL && number_parse_str(row->values[0], 0, 9999, &v) == NUMBER_OK) {
		snprintf(a[v].checksum, sizeof(a[v].checksum), "%s", row->values[1]);
		snprintf(a[v].applied_at, sizeof(a[v].applied_at), "%s", row->values[2]);
		a[v].present = true;
	}
	return 0;
}

static int db_status(struct cli *cli, const struct cli_args *args)
{
	static struct applied applied[10000];
	struct migration_list list;
	struct rows rows;
	unsigned current;
	char err[1024];
	int ret;

	if (migration_list_read(migrations_dir(cli, args), &list, err, sizeof(err)) < 0)
		return cli_fail(cli, EXIT_FAILURE_OTHER, "%s", err);
	if (cli_db(cli) == NULL) {
		migration_list_free(&list);
		return EXIT_UNAVAILABLE;
	}
	if ((ret = migrate_current_version(cli->db, &current)) == DB_OK && current > 0)
		ret = db_query(cli->db, "SELECT version, checksum, applied_at FROM schema_version",
			       NULL, 0, collect_applied, applied);
	if (ret != DB_OK) {
		migration_list_free(&list);
		return cli_db_fail(cli, ret, "reading schema_version");
	}
	rows_init(&rows, status_fields, N_FIELDS(status_fields));
	for (size_t i = 0; i < list.count; i++) {
		const struct migration *m = &list.items[i];
		char version[16], sum[65] = "";
		const char *state = "pending";
		snprintf(version, sizeof(version), "%u", m->version);
		if (applied[m->version].present) {
			migration_checksum(m, sum, err, sizeof(err));
			state = strcmp(sum, applied[m->version].checksum) == 0 ? "applied"
				: "applied, file changed since";
		}
		rows_add(&rows, (const char *const[]){ version, m->name, state,
			 applied[m->version].present ? applied[m->version].applied_at : NULL });
	}
	if (!cli->json)
		printf("database at version %u; newest known %u\n", current,
		       list.count ? list.items[list.count - 1].version : 0);
	rows_print(&rows, cli->json);
	rows_free(&rows);
	migration_list_free(&list);
	return EXIT_OK;
}

static const struct cli_option dir_options[] = { { "dir", "DIR" }, { NULL, NULL } };

const struct cli_command db_commands[] = {
	{ "db", "migrate", "[--dir DIR]", "bring the schema up to date (idempotent)", 0, 0,
	  dir_options, db_migrate },
	{ "db", "status", "[--dir DIR]", "show the schema version and pending migrations", 0, 0,
	  dir_options, db_status },
	{ NULL, NULL, NULL, NULL, 0, 0, NULL, NULL },
};
