/*
 * sql_split.h - split a SQL script into statements.
 *
 * For the migration files the suite ships: statements end with ';' outside
 * quotes ('...', "...", `...`) and comments (-- ..., # ..., C-style block comments).
 * Pure, no allocation: the caller walks the script one statement at a time.
 */
#ifndef LIMRISTEM_SQL_SPLIT_H
#define LIMRISTEM_SQL_SPLIT_H

#include <stddef.h>

struct sql_statement {
	const char *text;	/* points into the script; no trailing ';' */
	size_t len;
	unsigned line;		/* line of the statement's first character */
};

/* Finds the next statement at or after *pos (updated) in script[0..len).
 * Returns 1 with *stmt_r filled, 0 at the end, -1 when a quote or comment
 * is never closed (*stmt_r then says where it starts). Blank statements and
 * comments alone are skipped. */
int sql_next_statement(const char *script, size_t len, size_t *pos, unsigned *line,
		       struct sql_statement *stmt_r);

#endif
