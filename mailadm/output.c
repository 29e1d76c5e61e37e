/*
 * output.c - aligned tables and JSON from rows of database text.
 *
 * Values are shown as the database holds them; in tables, control
 * characters become '?' so that a stored value cannot rewrite the
 * operator's terminal, and widths count characters, not bytes.
 */
#include "autoconfig.h"

#include <ctype.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "common/number.h"
#include "common/xalloc.h"
#include "mailadm/output.h"

void rows_init(struct rows *rows, const struct field *fields, size_t field_count)
{
	memset(rows, 0, sizeof(*rows));
	rows->fields = fields;
	rows->field_count = field_count;
}

void rows_add(struct rows *rows, const char *const *values)
{
	size_t base;

	rows->cells = xgrow(rows->cells, &rows->cap, (rows->count + 1) * rows->field_count,
			    sizeof(char *));
	base = rows->count * rows->field_count;
	for (size_t i = 0; i < rows->field_count; i++)
		rows->cells[base + i] = values[i] != NULL ? xstrdup(values[i]) : NULL;
	rows->count++;
}

int rows_collect(const struct db_row *row, void *arg)
{
	rows_add(arg, row->values);
	return 0;
}

void rows_free(struct rows *rows)
{
	for (size_t i = 0; i < rows->count * rows->field_count; i++)
		free(rows->cells[i]);
	free(rows->cells);
	rows->cells = NULL;
	rows->count = rows->cap = 0;
}

static const char *cell(const struct rows *rows, size_t row, size_t col)
{
	return rows->cells[row * rows->field_count + col];
}

/* The text a table shows: "-" for NULL, yes/no, control characters as '?':
 * C0, DEL and C1 (U+0080..U+009F in UTF-8, which terminals obey as well:
 * U+009B is CSI), since values from the network (DNS answers, DMARC
 * reports) reach the tables. */
static char *display(const struct rows *rows, size_t row, size_t col)
{
	const char *v = cell(rows, row, col);
	char *out, *w;

	if (v == NULL)
		return xstrdup("-");
	if (rows->fields[col].type == FIELD_BOOL)
		return xstrdup(strcmp(v, "0") == 0 ? "no" : "yes");
	w = out = xstrdup(v);
	for (const char *p = out; *p; p++) {
		unsigned char c = (unsigned char)*p, next = (unsigned char)p[1];

		if (c == 0xc2 && next >= 0x80 && next <= 0x9f) {
			*w++ = '?';
			p++;
		} else {
			*w++ = c < 0x20 || c == 0x7f ? '?' : *p;
		}
	}
	*w = '\0';
	return out;
}

static size_t text_width(const char *s)
{
	size_t n = mbstowcs(NULL, s, 0);
	wchar_t *w;
	int width;

	if (n == (size_t)-1)
		return strlen(s);
	w = xcalloc(n + 1, sizeof(wchar_t));
	mbstowcs(w, s, n + 1);
	width = wcswidth(w, n);
	free(w);
	return width < 0 ? n : (size_t)width;
}

static void print_padded(const char *s, size_t width, bool last)
{
	fputs(s, stdout);
	if (!last)
		for (size_t w = text_width(s); w < width + 2; w++)
			fputc(' ', stdout);
}

static void print_table(const struct rows *rows)
{
	size_t *widths = xcalloc(rows->field_count, sizeof(size_t));
	char **shown = xcalloc(rows->count * rows->field_count + 1, sizeof(char *));

	for (size_t c = 0; c < rows->field_count; c++)
		widths[c] = strlen(rows->fields[c].name);
	for (size_t r = 0; r < rows->count; r++) {
		for (size_t c = 0; c < rows->field_count; c++) {
			char *s = shown[r * rows->field_count + c] = display(rows, r, c);
			size_t w = text_width(s);
			if (w > widths[c])
				widths[c] = w;
		}
	}
	for (size_t c = 0; c < rows->field_count; c++) {
		char header[64];
		size_t i;
		/* "quota_mb" -> "QUOTA MB" */
		for (i = 0; rows->fields[c].name[i] != '\0' && i < sizeof(header) - 1; i++) {
			char ch = rows->fields[c].name[i];
			header[i] = ch == '_' ? ' ' : (char)toupper((unsigned char)ch);
		}
		header[i] = '\0';
		print_padded(header, widths[c], c + 1 == rows->field_count);
	}
	fputc('\n', stdout);
	for (size_t r = 0; r < rows->count; r++) {
		for (size_t c = 0; c < rows->field_count; c++)
			print_padded(shown[r * rows->field_count + c], widths[c], c + 1 == rows->field_count);
		fputc('\n', stdout);
	}
	for (size_t i = 0; i < rows->count * rows->field_count; i++)
		free(shown[i]);
	free(shown);
	free(widths);
}

static json_t *json_value(const struct rows *rows, size_t row, size_t col)
{
	const char *v = cell(rows, row, col);

	if (v == NULL)
		return json_null();
	switch (rows->fields[col].type) {
	case FIELD_NUMBER: {
		long long n;

		/* what JSON cannot hold as an integer stays text rather than change */
		return number_parse_str(v, INT64_MIN, INT64_MAX, &n) == NUMBER_OK ? json_integer(n)
										    : json_string(v);
	}
	case FIELD_BOOL:
		return json_boolean(strcmp(v, "0") != 0);
	default: {
		json_t *text = json_string(v);	/* NULL if not UTF-8; the database keeps UTF-8 */
		return text != NULL ? text : json_string_nocheck(v);
	}
	}
}

static json_t *json_record(const struct rows *rows, size_t row)
{
	json_t *obj = json_object();

	for (size_t c = 0; c < rows->field_count; c++)
		json_object_set_new(obj, rows->fields[c].name, json_value(rows, row, c));
	return obj;
}

static void print_json(json_t *value)
{
	json_dumpf(value, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	fputc('\n', stdout);
	json_decref(value);
}

void rows_print(const struct rows *rows, bool json)
{
	if (json) {
		json_t *array = json_array();
		for (size_t r = 0; r < rows->count; r++)
			json_array_append_new(array, json_record(rows, r));
		print_json(array);
		return;
	}
	print_table(rows);
}

void rows_print_record(const struct rows *rows, size_t index, bool json)
{
	size_t width = 0;

	if (json) {
		print_json(json_record(rows, index));
		return;
	}
	for (size_t c = 0; c < rows->field_count; c++)
		if (strlen(rows->fields[c].name) > width)
			width = strlen(rows->fields[c].name);
	for (size_t c = 0; c < rows->field_count; c++) {
		char *value = display(rows, index, c);
		printf("%s:%*s %s\n", rows->fields[c].name,
		       (int)(width - strlen(rows->fields[c].name)), "", value);
		free(value);
	}
}
