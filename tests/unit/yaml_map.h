/*
 * yaml_map.h - reading the conformance suites' YAML (libyaml documents) in
 * unit tests: a mapping's value by key, a scalar as a C string.
 * Header-only: each test that reads a suite includes it.
 */
#ifndef LIMRISTEM_TESTS_YAML_MAP_H
#define LIMRISTEM_TESTS_YAML_MAP_H

#include <string.h>

#include <yaml.h>

#include "common/xalloc.h"

/* The value of key in the mapping map, or NULL (also when map is not one). */
static inline const yaml_node_t *yaml_map_get(yaml_document_t *doc, const yaml_node_t *map,
					      const char *key)
{
	size_t len = strlen(key);

	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = yaml_document_get_node(doc, p->key);
		if (k != NULL && k->type == YAML_SCALAR_NODE && k->data.scalar.length == len &&
		    memcmp(k->data.scalar.value, key, len) == 0)
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

/* A malloc'ed copy of the scalar node, or NULL when it is none. */
static inline char *yaml_scalar_dup(const yaml_node_t *node)
{
	if (node == NULL || node->type != YAML_SCALAR_NODE)
		return NULL;
	return xstrndup((const char *)node->data.scalar.value, node->data.scalar.length);
}

#endif
