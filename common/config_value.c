/*
 * config_value.c - one configuration value: parse, check, store, format, free.
 *
 * Turns a libconfig setting into the typed value an option declares, with a
 * reason when it cannot (the caller adds "file:line: section.key: "), and
 * turns a stored value back into file syntax for --print-config.
 */
#include "autoconfig.h"

#include <ctype.h>
#include <inttypes.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/config_value.h"
#include "common/number.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

#define VALUE_AT(base, opt, type) ((type *)(void *)((char *)(base) + (opt)->offset))
#define CVALUE_AT(base, opt, type) ((type const *)(const void *)((const char *)(base) + (opt)->offset))

static const struct {
	const char *suffix;
	long long factor;
} duration_units[] = {
	{ "ms", 1 }, { "s", 1000 }, { "m", 60 * 1000LL }, { "h", 3600 * 1000LL },
	{ "d", 86400 * 1000LL }, { "w", 7 * 86400 * 1000LL },
};

static const struct {
	const char *suffix;
	long long factor;
} size_units[] = {
	{ "", 1 }, { "b", 1 }, { "k", 1024 }, { "kb", 1024 }, { "kib", 1024 },
	{ "m", 1024 * 1024 }, { "mb", 1024 * 1024 }, { "mib", 1024 * 1024 },
	{ "g", 1024LL * 1024 * 1024 }, { "gb", 1024LL * 1024 * 1024 }, { "gib", 1024LL * 1024 * 1024 },
};

/* Splits "250ms" into 250 and "ms" (lowercased, one space allowed between,
 * none around). */
static int split_number(const char *s, long long *number_r, char *unit, size_t unitlen)
{
	const char *end = s;
	size_t n;

	while (isdigit((unsigned char)*end))
		end++;
	if (number_parse(s, (size_t)(end - s), 0, INT64_MAX, number_r) != NUMBER_OK)
		return -1;
	if (*end == ' ' && *++end == '\0')
		return -1;	/* "5 ": a space and no unit */
	n = strlen(end);
	if (n >= unitlen)
		return -1;
	for (size_t i = 0; i <= n; i++)
		unit[i] = (char)tolower((unsigned char)end[i]);
	return 0;
}

int config_parse_duration(const char *s, long long *ms_r)
{
	long long number;
	char unit[8];

	if (split_number(s, &number, unit, sizeof(unit)) < 0)
		return -1;
	if (unit[0] == '\0') {
		strcpy(unit, "s");
	}
	for (size_t i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++) {
		if (strcmp(unit, duration_units[i].suffix) == 0) {
			if (number > INT64_MAX / duration_units[i].factor)
				return -1;
			*ms_r = number * duration_units[i].factor;
			return 0;
		}
	}
	return -1;
}

int config_parse_size(const char *s, long long *bytes_r)
{
	long long number;
	char unit[8];

	if (split_number(s, &number, unit, sizeof(unit)) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(size_units) / sizeof(size_units[0]); i++) {
		if (strcmp(unit, size_units[i].suffix) == 0) {
			if (number > INT64_MAX / size_units[i].factor)
				return -1;
			*bytes_r = number * size_units[i].factor;
			return 0;
		}
	}
	return -1;
}

int config_parse_mode(const char *s, unsigned *mode_r)
{
	unsigned mode = 0;

	if (*s == '\0' || strlen(s) > 4)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '7')
			return -1;
		mode = mode * 8 + (unsigned)(*s - '0');
	}
	*mode_r = mode;
	return 0;
}

static void format_duration(long long ms, struct strbuf *out)
{
	if (ms % 1000 != 0 || ms == 0) {
		strbuf_appendf(out, ms == 0 ? "\"0s\"" : "\"%lldms\"", ms);
		return;
	}
	for (size_t i = sizeof(duration_units) / sizeof(duration_units[0]); i-- > 1;) {
		if (ms % duration_units[i].factor == 0) {
			strbuf_appendf(out, "\"%lld%s\"", ms / duration_units[i].factor,
				       duration_units[i].suffix);
			return;
		}
	}
}

static void format_size(long long bytes, struct strbuf *out)
{
	static const struct { const char *suffix; long long factor; } units[] = {
		{ "G", 1024LL * 1024 * 1024 }, { "M", 1024 * 1024 }, { "k", 1024 },
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (bytes != 0 && bytes % units[i].factor == 0) {
			strbuf_appendf(out, "\"%lld%s\"", bytes / units[i].factor, units[i].suffix);
			return;
		}
	}
	strbuf_appendf(out, "%lld", bytes);
}

static void format_quoted(const char *s, struct strbuf *out)
{
	strbuf_append_char(out, '"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			strbuf_appendf(out, "\\%c", c);
		else if (c == '\n')
			strbuf_append_str(out, "\\n");
		else if (c == '\t')
			strbuf_append_str(out, "\\t");
		else if (c < 0x20 || c == 0x7f)
			strbuf_appendf(out, "\\x%02x", c);
		else
			strbuf_append_char(out, (char)c);
	}
	strbuf_append_char(out, '"');
}

static void format_endpoint(const struct endpoint *ep, struct strbuf *out)
{
	char text[ENDPOINT_PATH_MAX + ENDPOINT_HOST_MAX + 16];

	if (endpoint_format(ep, text, sizeof(text)) < 0)
		text[0] = '\0';
	format_quoted(text, out);
}

static void format_list_open(size_t count, struct strbuf *out)
{
	strbuf_append_str(out, count == 0 ? "[" : "[ ");
}

static void format_list_close(size_t count, struct strbuf *out)
{
	strbuf_append_str(out, count == 0 ? "]" : " ]");
}

void config_value_format(const struct config_option *opt, const void *base, struct strbuf *out)
{
	switch (opt->type) {
	case CONFIG_BOOL:
		strbuf_append_str(out, *CVALUE_AT(base, opt, bool) ? "true" : "false");
		break;
	case CONFIG_INT:
		strbuf_appendf(out, "%lld", *CVALUE_AT(base, opt, long long));
		break;
	case CONFIG_DURATION:
		format_duration(*CVALUE_AT(base, opt, long long), out);
		break;
	case CONFIG_SIZE:
		format_size(*CVALUE_AT(base, opt, long long), out);
		break;
	case CONFIG_STRING:
		format_quoted(*CVALUE_AT(base, opt, char *), out);
		break;
	case CONFIG_ENUM:
		format_quoted(opt->choices[*CVALUE_AT(base, opt, int)], out);
		break;
	case CONFIG_MODE:
		strbuf_appendf(out, "\"%04o\"", *CVALUE_AT(base, opt, unsigned));
		break;
	case CONFIG_ENDPOINT:
		format_endpoint(CVALUE_AT(base, opt, struct endpoint), out);
		break;
	case CONFIG_STRING_LIST: {
		const struct config_strings *l = CVALUE_AT(base, opt, struct config_strings);
		format_list_open(l->count, out);
		for (size_t i = 0; i < l->count; i++) {
			if (i > 0)
				strbuf_append_str(out, ", ");
			format_quoted(l->items[i], out);
		}
		format_list_close(l->count, out);
		break;
	}
	case CONFIG_CIDR_LIST: {
		const struct cidr_list *l = CVALUE_AT(base, opt, struct cidr_list);
		char text[CIDR_TEXT_MAX];
		format_list_open(l->count, out);
		for (size_t i = 0; i < l->count; i++) {
			if (cidr_format(&l->items[i], text, sizeof(text)) < 0)
				text[0] = '\0';
			strbuf_appendf(out, "%s\"%s\"", i > 0 ? ", " : "", text);
		}
		format_list_close(l->count, out);
		break;
	}
	case CONFIG_ENDPOINT_LIST: {
		const struct endpoint_list *l = CVALUE_AT(base, opt, struct endpoint_list);
		format_list_open(l->count, out);
		for (size_t i = 0; i < l->count; i++) {
			if (i > 0)
				strbuf_append_str(out, ", ");
			format_endpoint(&l->items[i], out);
		}
		format_list_close(l->count, out);
		break;
	}
	}
}

void config_strings_free(struct config_strings *list)
{
	for (size_t i = 0; i < list->count; i++)
		free(list->items[i]);
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

void endpoint_list_free(struct endpoint_list *list)
{
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

void config_value_free(const struct config_option *opt, void *base)
{
	switch (opt->type) {
	case CONFIG_STRING: {
		char **p = VALUE_AT(base, opt, char *);
		free(*p);
		*p = NULL;
		break;
	}
	case CONFIG_STRING_LIST:
		config_strings_free(VALUE_AT(base, opt, struct config_strings));
		break;
	case CONFIG_CIDR_LIST:
		cidr_list_free(VALUE_AT(base, opt, struct cidr_list));
		break;
	case CONFIG_ENDPOINT_LIST:
		endpoint_list_free(VALUE_AT(base, opt, struct endpoint_list));
		break;
	default:
		break;
	}
}

/* --- reading values ---------------------------------------------------- */

struct value_error {
	const config_setting_t *where;	/* the setting the reason is about */
	char *why;
	size_t whylen;
};

static int fail(struct value_error *e, const config_setting_t *where, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct value_error *e, const config_setting_t *where, const char *fmt, ...)
{
	va_list ap;
	int n;

	e->where = where;
	va_start(ap, fmt);
	n = vsnprintf(e->why, e->whylen, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= e->whylen)
		snprintf(e->why, e->whylen, "invalid value");
	return -1;
}

static bool is_integer(const config_setting_t *s)
{
	int t = config_setting_type(s);
	return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64;
}

static int check_bounds(const struct config_option *opt, const config_setting_t *s,
			long long v, struct value_error *e)
{
	struct strbuf lo = STRBUF_INIT, hi = STRBUF_INIT;
	struct config_option shown = *opt;
	int ret;

	if (opt->min == 0 && opt->max == 0)
		return 0;
	if (v >= opt->min && v <= opt->max)
		return 0;
	shown.offset = 0;
	config_value_format(&shown, &opt->min, &lo);
	config_value_format(&shown, &opt->max, &hi);
	ret = fail(e, s, "out of range (%s to %s)", strbuf_str(&lo), strbuf_str(&hi));
	strbuf_release(&lo);
	strbuf_release(&hi);
	return ret;
}

static int read_number(const struct config_option *opt, const config_setting_t *s,
		       long long *v_r, struct value_error *e)
{
	const char *text;

	if (is_integer(s)) {
		long long v = config_setting_get_int64(s);
		if (v < 0 && opt->type != CONFIG_INT)
			return fail(e, s, "a %s may not be negative",
				    opt->type == CONFIG_DURATION ? "duration" : "size");
		if (opt->type == CONFIG_DURATION) {
			if (v > INT64_MAX / 1000)
				return fail(e, s, "the duration is too long");
			v *= 1000;
		}
		*v_r = v;
		return check_bounds(opt, s, v, e);
	}
	if (opt->type == CONFIG_INT)
		return fail(e, s, "expected a whole number");
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail(e, s, opt->type == CONFIG_DURATION
			    ? "expected a duration such as 30 (seconds), \"250ms\", \"5m\", \"2h\" or \"7d\""
			    : "expected a size such as 4096, \"64k\", \"10M\" or \"1G\"");
	text = config_setting_get_string(s);
	if (opt->type == CONFIG_DURATION ? config_parse_duration(text, v_r) < 0
					 : config_parse_size(text, v_r) < 0)
		return fail(e, s, opt->type == CONFIG_DURATION
			    ? "\"%s\" is not a duration (examples: \"250ms\", \"30s\", \"5m\", \"2h\", \"7d\")"
			    : "\"%s\" is not a size (examples: 4096, \"64k\", \"10M\", \"1G\")", text);
	return check_bounds(opt, s, *v_r, e);
}

static int read_string(const struct config_option *opt, const config_setting_t *s,
		       const char **text_r, struct value_error *e)
{
	const char *why;

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail(e, s, "expected a string in double quotes");
	*text_r = config_setting_get_string(s);
	if ((opt->flags & CONFIG_REQUIRED) && **text_r == '\0')
		return fail(e, s, "may not be empty");
	if (opt->type == CONFIG_STRING && opt->max > 0 && strlen(*text_r) > (size_t)opt->max)
		return fail(e, s, "longer than %lld characters", opt->max);
	if (opt->check != NULL && **text_r != '\0' && (why = opt->check(*text_r)) != NULL)
		return fail(e, s, "\"%s\": %s", *text_r, why);
	return 0;
}

static int read_endpoint(const struct config_option *opt, const config_setting_t *s,
			 struct endpoint *ep_r, struct value_error *e)
{
	const char *text, *why;

	if (read_string(opt, s, &text, e) < 0)
		return -1;
	if (endpoint_parse(text, ep_r, &why) < 0)
		return fail(e, s, "\"%s\": %s", text, why);
	if ((opt->flags & CONFIG_LOCAL) && ep_r->kind != ENDPOINT_NONE && !endpoint_is_local(ep_r))
		return fail(e, s, "\"%s\": must be a unix socket or a loopback address", text);
	return 0;
}

static int read_enum(const struct config_option *opt, const config_setting_t *s,
		     int *index_r, struct value_error *e)
{
	struct strbuf names = STRBUF_INIT;
	const char *text;
	int ret;

	if (read_string(opt, s, &text, e) < 0)
		return -1;
	for (int i = 0; opt->choices[i] != NULL; i++) {
		if (strcmp(text, opt->choices[i]) == 0) {
			*index_r = i;
			strbuf_release(&names);
			return 0;
		}
		strbuf_appendf(&names, "%s%s", i > 0 ? ", " : "", opt->choices[i]);
	}
	ret = fail(e, s, "\"%s\" is not one of: %s", text, strbuf_str(&names));
	strbuf_release(&names);
	return ret;
}

/* Lists: an array or list of strings; a single string is a list of one. */
static size_t list_length(const config_setting_t *s)
{
	return config_setting_type(s) == CONFIG_TYPE_STRING ? 1 : (size_t)config_setting_length(s);
}

static const config_setting_t *list_item(const config_setting_t *s, size_t i)
{
	return config_setting_type(s) == CONFIG_TYPE_STRING ? s
		: config_setting_get_elem(s, (unsigned)i);
}

static int check_list(const struct config_option *opt, const config_setting_t *s,
		      struct value_error *e)
{
	int t = config_setting_type(s);

	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST && t != CONFIG_TYPE_STRING)
		return fail(e, s, "expected a list of strings such as [ \"a\", \"b\" ]");
	if ((opt->flags & CONFIG_REQUIRED) && list_length(s) == 0)
		return fail(e, s, "the list may not be empty");
	if (opt->max > 0 && list_length(s) > (size_t)opt->max)
		return fail(e, s, "at most %lld items", opt->max);
	return 0;
}

static int read_list(const struct config_option *opt, const config_setting_t *s,
		     void *dst, struct value_error *e)
{
	size_t n;
	const char *text, *why;

	if (check_list(opt, s, e) < 0)
		return -1;
	n = list_length(s);
	if (opt->type == CONFIG_STRING_LIST) {
		struct config_strings list = { xcalloc(n, sizeof(char *)), 0 };
		for (size_t i = 0; i < n; i++) {
			if (read_string(opt, list_item(s, i), &text, e) < 0) {
				config_strings_free(&list);
				return -1;
			}
			list.items[list.count++] = xstrdup(text);
		}
		*(struct config_strings *)dst = list;
	} else if (opt->type == CONFIG_CIDR_LIST) {
		struct cidr_list list = { xcalloc(n, sizeof(struct cidr)), 0 };
		for (size_t i = 0; i < n; i++) {
			if (read_string(opt, list_item(s, i), &text, e) < 0 ||
			    (cidr_parse(text, &list.items[i], &why) < 0 &&
			     fail(e, list_item(s, i), "\"%s\": %s", text, why) < 0)) {
				cidr_list_free(&list);
				return -1;
			}
			list.count++;
		}
		*(struct cidr_list *)dst = list;
	} else {
		struct endpoint_list list = { xcalloc(n, sizeof(struct endpoint)), 0 };
		for (size_t i = 0; i < n; i++) {
			if (read_endpoint(opt, list_item(s, i), &list.items[i], e) < 0) {
				endpoint_list_free(&list);
				return -1;
			}
			list.count++;
		}
		*(struct endpoint_list *)dst = list;
	}
	return 0;
}

int config_value_set(const struct config_option *opt, const config_setting_t *s,
		     void *base, const config_setting_t **where_r, char *why, size_t whylen)
{
	struct value_error e = { s, why, whylen };
	void *dst = (char *)base + opt->offset;
	const char *text;
	long long number;
	int ret = -1;

	switch (opt->type) {
	case CONFIG_BOOL:
		if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
			ret = fail(&e, s, "expected true or false");
			break;
		}
		*(bool *)dst = config_setting_get_bool(s) != 0;
		ret = 0;
		break;
	case CONFIG_INT:
	case CONFIG_DURATION:
	case CONFIG_SIZE:
		if ((ret = read_number(opt, s, &number, &e)) == 0)
			*(long long *)dst = number;
		break;
	case CONFIG_STRING:
		if ((ret = read_string(opt, s, &text, &e)) == 0) {
			free(*(char **)dst);
			*(char **)dst = xstrdup(text);
		}
		break;
	case CONFIG_ENUM:
		ret = read_enum(opt, s, (int *)dst, &e);
		break;
	case CONFIG_MODE:
		if ((ret = read_string(opt, s, &text, &e)) == 0 &&
		    (ret = config_parse_mode(text, (unsigned *)dst)) < 0)
			fail(&e, s, "\"%s\" is not an octal file mode such as \"0660\"", text);
		break;
	case CONFIG_ENDPOINT:
		ret = read_endpoint(opt, s, (struct endpoint *)dst, &e);
		break;
	case CONFIG_STRING_LIST:
	case CONFIG_CIDR_LIST:
	case CONFIG_ENDPOINT_LIST: {
		/* Read into a scratch copy so a failure keeps the old value. */
		union {
			struct config_strings s;
			struct cidr_list c;
			struct endpoint_list e;
		} fresh;
		memset(&fresh, 0, sizeof(fresh));
		if ((ret = read_list(opt, s, &fresh, &e)) == 0) {
			config_value_free(opt, base);
			memcpy(dst, &fresh, opt->type == CONFIG_STRING_LIST ? sizeof(fresh.s)
			       : opt->type == CONFIG_CIDR_LIST ? sizeof(fresh.c) : sizeof(fresh.e));
		}
		break;
	}
	}
	*where_r = e.where;
	return ret;
}
