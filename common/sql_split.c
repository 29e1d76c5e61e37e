/*
 * sql_split.c - statement splitter for shipped SQL scripts.
 */
#include "autoconfig.h"

#include <stdbool.h>
#include <string.h>

#include "common/sql_split.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Skips whitespace and comments; returns false at an unclosed comment. */
static bool skip_blank(const char *s, size_t len, size_t *i, unsigned *line)
{
	while (*i < len) {
		char c = s[*i];
		if (is_space(c)) {
			*line += c == '\n';
			(*i)++;
		} else if (c == '#' || (c == '-' && *i + 2 < len && s[*i + 1] == '-' && is_space(s[*i + 2]))) {
			while (*i < len && s[*i] != '\n')
				(*i)++;
		} else if (c == '/' && *i + 1 < len && s[*i + 1] == '*') {
			size_t end;
			for (end = *i + 2; end + 1 < len && !(s[end] == '*' && s[end + 1] == '/'); end++)
				*line += s[end] == '\n';
			if (end + 1 >= len)
				return false;
			*i = end + 2;
		} else {
			break;
		}
	}
	return true;
}

int sql_next_statement(const char *s, size_t len, size_t *pos, unsigned *line,
		       struct sql_statement *stmt_r)
{
	size_t i = *pos;
	char quote = 0;

	for (;;) {
		if (!skip_blank(s, len, &i, line)) {
			stmt_r->text = s + i;
			stmt_r->len = 0;
			stmt_r->line = *line;
			return -1;
		}
		if (i < len && s[i] == ';') {
			i++;	/* an empty statement */
			continue;
		}
		break;
	}
	if (i >= len) {
		*pos = i;
		return 0;
	}
	stmt_r->text = s + i;
	stmt_r->line = *line;
	for (; i < len; i++) {
		char c = s[i];
		*line += c == '\n';
		if (quote != 0) {
			if (c == '\\' && quote != '`' && i + 1 < len) {
				*line += s[i + 1] == '\n';
				i++;
			} else if (c == quote) {
				quote = 0;
			}
		} else if (c == '\'' || c == '"' || c == '`') {
			quote = c;
		} else if (c == ';') {
			break;
		} else if ((c == '#' || (c == '-' && i + 2 < len && s[i + 1] == '-' && is_space(s[i + 2])) ||
			    (c == '/' && i + 1 < len && s[i + 1] == '*'))) {
			size_t before = i;
			if (!skip_blank(s, len, &i, line))
				return -1;
			if (i > before)
				i--;	/* the loop's i++ */
		}
	}
	if (quote != 0)
		return -1;
	stmt_r->len = (size_t)(s + i - stmt_r->text);
	while (stmt_r->len > 0 && is_space(stmt_r->text[stmt_r->len - 1]))
		stmt_r->len--;
	*pos = i < len ? i + 1 : i;
	return 1;
}
