/*
 * config.c - load, check and print the configuration file.
 *
 * Walks the file libconfig parsed and matches every setting against the
 * option tables: sections first, then keys. Reports the first problem as
 * "file:line: section.key: reason" and suggests the option that was
 * probably meant when a key is unknown.
 */
#include "autoconfig.h"

#include <errno.h>
#include <libconfig.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/config_value.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

/* Every section name the suite's programs use. A program skips the
 * sections of the others; each checks its own when it starts. */
static const char *const suite_sections[] = {
	"log", "redis", "database", "dns", "blocklists", "learning", "milter", "policyd", "srsd",
	"mailadm", NULL,
};

struct load_ctx {
	const char *path;
	char *err;
	size_t errlen;
};

static int load_error(struct load_ctx *ctx, const config_setting_t *where,
		      const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int load_error(struct load_ctx *ctx, const config_setting_t *where,
		      const char *fmt, ...)
{
	const char *file = where ? config_setting_source_file(where) : NULL;
	unsigned line = where ? config_setting_source_line(where) : 0;
	size_t used;
	int n;
	va_list ap;

	if (file == NULL)
		file = ctx->path ? ctx->path : "(defaults)";
	n = snprintf(ctx->err, ctx->errlen, "%s:%u: ", file, line);
	used = n < 0 ? 0 : (size_t)n < ctx->errlen ? (size_t)n : ctx->errlen - 1;
	va_start(ap, fmt);
	vsnprintf(ctx->err + used, ctx->errlen - used, fmt, ap);
	va_end(ap);
	return -1;
}

static void *section_base(const struct config_section *section, void *settings)
{
	return (char *)settings + section->offset;
}

/* Levenshtein distance, capped: enough to suggest "delay" for "dealy". */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[64], cur[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(size_t));
	}
	return prev[lb];
}

static const char *closest_option(const struct config_section *section, const char *key)
{
	const char *best = NULL;
	size_t best_distance = 3;

	for (const struct config_option *o = section->options; o->name != NULL; o++) {
		size_t d = edit_distance(key, o->name);
		if (d < best_distance) {
			best = o->name;
			best_distance = d;
		}
	}
	return best;
}

static const struct config_option *find_option(const struct config_section *section,
					       const char *key)
{
	for (const struct config_option *o = section->options; o->name != NULL; o++)
		if (strcmp(o->name, key) == 0)
			return o;
	return NULL;
}

static int apply_section(struct load_ctx *ctx, const struct config_section *section,
			 const config_setting_t *group, void *settings)
{
	void *base = section_base(section, settings);
	char why[CONFIG_ERROR_MAX / 2];

	for (int i = 0; i < config_setting_length(group); i++) {
		const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		const char *key = config_setting_name(s);
		const struct config_option *opt = find_option(section, key);
		const config_setting_t *where;

		if (opt == NULL) {
			const char *hint = closest_option(section, key);
			return load_error(ctx, s, "%s.%s: unknown option%s%s%s", section->name, key,
					  hint ? " (did you mean " : "", hint ? hint : "", hint ? "?)" : "");
		}
		if (config_value_set(opt, s, base, &where, why, sizeof(why)) < 0)
			return load_error(ctx, where, "%s.%s: %s", section->name, key, why);
	}
	return 0;
}

static bool is_suite_section(const char *name)
{
	for (size_t i = 0; suite_sections[i] != NULL; i++)
		if (strcmp(suite_sections[i], name) == 0)
			return true;
	return false;
}

static int apply_root(struct load_ctx *ctx, const struct config_section *sections,
		      const config_setting_t *root, void *settings)
{
	for (int i = 0; i < config_setting_length(root); i++) {
		const config_setting_t *group = config_setting_get_elem(root, (unsigned)i);
		const char *name = config_setting_name(group);
		const struct config_section *section = NULL;

		for (const struct config_section *sec = sections; sec->name != NULL; sec++)
			if (strcmp(sec->name, name) == 0)
				section = sec;
		if (section == NULL && is_suite_section(name))
			continue;	/* another program's section */
		if (section == NULL)
			return load_error(ctx, group, "%s: unknown section", name);
		if (config_setting_type(group) != CONFIG_TYPE_GROUP)
			return load_error(ctx, group, "%s: expected a section: %s = { ... };", name, name);
		if (apply_section(ctx, section, group, settings) < 0)
			return -1;
	}
	return 0;
}

/* Stores the option's default (file syntax) into base. 0 or -1. */
static int set_default(const struct config_option *o, void *base)
{
	struct strbuf text = STRBUF_INIT;
	const config_setting_t *where;
	char why[CONFIG_ERROR_MAX / 2];
	config_t cf;
	int ret = -1;

	config_init(&cf);
	strbuf_appendf(&text, "v = %s;", o->default_value);
	if (config_read_string(&cf, strbuf_str(&text)) == CONFIG_TRUE)
		ret = config_value_set(o, config_lookup(&cf, "v"), base, &where, why, sizeof(why));
	config_destroy(&cf);
	strbuf_release(&text);
	return ret;
}

static int apply_defaults(struct load_ctx *ctx, const struct config_section *sections,
			  void *settings)
{
	for (const struct config_section *sec = sections; sec->name != NULL; sec++)
		for (const struct config_option *o = sec->options; o->name != NULL; o++)
			if (set_default(o, section_base(sec, settings)) < 0)
				return load_error(ctx, NULL, "%s.%s: bad default %s", sec->name,
						  o->name, o->default_value);
	return 0;
}

static int read_file(struct load_ctx *ctx, config_t *cf)
{
	FILE *fp = fopen(ctx->path, "r");
	char *copy;

	if (fp == NULL) {
		snprintf(ctx->err, ctx->errlen, "%s: cannot read: %s", ctx->path, strerror(errno));
		return -1;
	}
	fclose(fp);
	copy = xstrdup(ctx->path);
	config_set_include_dir(cf, dirname(copy));
	free(copy);
	if (config_read_file(cf, ctx->path) != CONFIG_TRUE) {
		const char *file = config_error_file(cf);
		snprintf(ctx->err, ctx->errlen, "%s:%d: %s", file ? file : ctx->path,
			 config_error_line(cf), config_error_text(cf));
		return -1;
	}
	return 0;
}

static int check_sections(struct load_ctx *ctx, const struct config_section *sections,
			  const config_t *cf, void *settings)
{
	for (const struct config_section *sec = sections; sec->name != NULL; sec++) {
		const char *why;
		if (sec->check == NULL || (why = sec->check(section_base(sec, settings))) == NULL)
			continue;
		return load_error(ctx, cf ? config_lookup(cf, sec->name) : NULL, "%s: %s",
				  sec->name, why);
	}
	return 0;
}

int config_load(const char *path, const struct config_section *sections,
		void *settings, char *err, size_t errlen)
{
	struct load_ctx ctx = { path, err, errlen };
	config_t cf;
	int ret;

	err[0] = '\0';
	if (apply_defaults(&ctx, sections, settings) < 0)
		return -1;
	if (path == NULL)
		return check_sections(&ctx, sections, NULL, settings);
	config_init(&cf);
	ret = read_file(&ctx, &cf);
	if (ret == 0)
		ret = apply_root(&ctx, sections, config_root_setting(&cf), settings);
	if (ret == 0)
		ret = check_sections(&ctx, sections, &cf, settings);
	config_destroy(&cf);
	return ret;
}

void config_free(const struct config_section *sections, void *settings)
{
	for (const struct config_section *sec = sections; sec->name != NULL; sec++)
		for (const struct config_option *o = sec->options; o->name != NULL; o++)
			config_value_free(o, section_base(sec, settings));
}

/* True when the option still has its default value (compared as text). */
static bool is_default(const struct config_option *o, const char *current)
{
	struct strbuf shown = STRBUF_INIT;
	struct config_option at_zero = *o;
	union {
		long long ll;
		char *s;
		struct config_strings list;
		struct cidr_list cidrs;
		struct endpoint_list endpoints;
		struct endpoint ep;
	} value;
	bool same = false;

	at_zero.offset = 0;
	memset(&value, 0, sizeof(value));
	if (set_default(&at_zero, &value) == 0) {
		config_value_format(&at_zero, &value, &shown);
		same = strcmp(strbuf_str(&shown), current) == 0;
	}
	config_value_free(&at_zero, &value);
	strbuf_release(&shown);
	return same;
}

void config_print(FILE *out, const struct config_section *sections,
		  const void *settings, bool only_changed)
{
	for (const struct config_section *sec = sections; sec->name != NULL; sec++) {
		const void *base = (const char *)settings + sec->offset;
		bool opened = false;

		for (const struct config_option *o = sec->options; o->name != NULL; o++) {
			struct strbuf value = STRBUF_INIT;

			config_value_format(o, base, &value);
			if (!only_changed || !is_default(o, strbuf_str(&value))) {
				if (!opened)
					fprintf(out, "%s = {\n", sec->name);
				opened = true;
				if (!only_changed && o->help != NULL)
					fprintf(out, "\t# %s\n", o->help);
				fprintf(out, "\t%s = %s;\n", o->name, strbuf_str(&value));
			}
			strbuf_release(&value);
		}
		if (opened)
			fprintf(out, "};\n");
	}
}
