/*
 * query.c - small lookups several mailadm nouns need.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "common/number.h"
#include "mailadm/nouns.h"
#include "mailadm/output.h"

static int first_number(const struct db_row *row, void *arg)
{
	long long *v = arg;

	if (row->values[0] == NULL || number_parse_str(row->values[0], INT64_MIN, INT64_MAX, v) ==
	    NUMBER_INVALID)
		*v = 0;
	return 1;
}

long long count_where(struct cli *cli, const char *sql, const struct db_param *params, size_t n)
{
	long long count = 0;

	if (db_query(cli->db, sql, params, n, first_number, &count) != DB_OK)
		return -1;
	return count;
}

bool domain_exists(struct cli *cli, const char *name)
{
	return count_rows(cli, "SELECT COUNT(*) FROM domains WHERE name = ?", name) > 0;
}

int require_domain(struct cli *cli, const char *name)
{
	if (domain_exists(cli, name))
		return EXIT_OK;
	return cli_fail(cli, EXIT_NOT_FOUND, "\"%s\" is not one of our domains (mailadm domain add %s)",
			name, name);
}

static int query_rows(struct cli *cli, struct rows *rows, const struct field *fields, size_t count,
		      const char *sql, const struct db_param *params, size_t n)
{
	if (cli_db(cli) == NULL)
		return DB_UNAVAILABLE;
	rows_init(rows, fields, count);
	return db_query(cli->db, sql, params, n, rows_collect, rows);
}

int list_rows(struct cli *cli, const struct field *fields, size_t field_count, const char *sql,
	      const struct db_param *params, size_t n, const char *what)
{
	struct rows rows;
	int ret = query_rows(cli, &rows, fields, field_count, sql, params, n);

	if (cli->db == NULL)
		return EXIT_UNAVAILABLE;
	if (ret == DB_OK)
		rows_print(&rows, cli->json);
	rows_free(&rows);
	return ret == DB_OK ? EXIT_OK : cli_db_fail(cli, ret, what);
}

int show_row(struct cli *cli, const struct field *fields, size_t field_count, const char *sql,
	     const struct db_param *params, size_t n, const char *name, const char *not_found)
{
	struct rows rows;
	int ret = query_rows(cli, &rows, fields, field_count, sql, params, n), rc;

	if (cli->db == NULL)
		return EXIT_UNAVAILABLE;
	rc = ret != DB_OK ? cli_db_fail(cli, ret, name)
	     : rows.count == 0 ? cli_fail(cli, EXIT_NOT_FOUND, "\"%s\": %s", name, not_found) : EXIT_OK;
	if (rc == EXIT_OK)
		rows_print_record(&rows, 0, cli->json);
	rows_free(&rows);
	return rc;
}
