/*
 * config_value.h - internal to config.c: one value of one option.
 */
#ifndef LIMRISTEM_CONFIG_VALUE_H
#define LIMRISTEM_CONFIG_VALUE_H

#include <libconfig.h>

#include "common/config.h"
#include "common/strbuf.h"

/* Stores setting s into the option's place in base. On error returns -1,
 * *where_r is the setting at fault (a list item, say) and why the reason. */
int config_value_set(const struct config_option *opt, const config_setting_t *s,
		     void *base, const config_setting_t **where_r, char *why, size_t whylen);
void config_value_free(const struct config_option *opt, void *base);
/* Appends the value in file syntax. */
void config_value_format(const struct config_option *opt, const void *base, struct strbuf *out);

#endif
