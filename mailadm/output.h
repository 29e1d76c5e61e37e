/*
 * output.h - what mailadm prints: aligned tables for people, JSON for
 * scripts (--json), from the same rows.
 */
#ifndef LIMRISTEM_MAILADM_OUTPUT_H
#define LIMRISTEM_MAILADM_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/db.h"

enum field_type {
	FIELD_TEXT,	/* JSON string */
	FIELD_NUMBER,	/* JSON integer */
	FIELD_BOOL,	/* "1"/"0" from the database; yes/no in tables */
};

struct field {
	const char *name;	/* JSON key and table header (uppercased) */
	enum field_type type;
};

struct rows {
	const struct field *fields;
	size_t field_count;
	char **cells;		/* field_count per row; NULL cells are SQL NULL */
	size_t count, cap;
};

void rows_init(struct rows *rows, const struct field *fields, size_t field_count);
void rows_add(struct rows *rows, const char *const *values);
/* A db_row_callback that adds each row (columns in field order). */
int rows_collect(const struct db_row *row, void *rows);
void rows_free(struct rows *rows);

/* A table (or a JSON array). For "show": one record as "name: value"
 * lines (or a JSON object). */
void rows_print(const struct rows *rows, bool json);
void rows_print_record(const struct rows *rows, size_t index, bool json);

#endif
