/*
 * query.c - small lookups several mailadm nouns need.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "nouns.h"

static int first_number(const struct db_row *row, void *arg)
{
	*(long long *)arg = row->values[0] ? strtoll(row->values[0], NULL, 10) : 0;
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
