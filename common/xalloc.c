/*
 * xalloc.c - allocation wrappers that abort with a log line on exhaustion.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xalloc.h"

static void out_of_memory(size_t size)
{
	log_fatal("out of memory allocating %zu bytes", size);
}

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);
	if (p == NULL)
		out_of_memory(size);
	return p;
}

void *xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);
	if (p == NULL)
		out_of_memory(count * size);
	return p;
}

void *xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);
	if (p == NULL)
		out_of_memory(size);
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t len)
{
	char *p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void *xgrow(void *array, size_t *cap_r, size_t need, size_t elem_size)
{
	size_t cap = *cap_r;

	if (need <= cap && array != NULL)
		return array;
	if (cap < 8)
		cap = 8;
	while (cap < need) {
		if (cap > ((size_t)-1) / 2 / elem_size)
			out_of_memory(need * elem_size);
		cap *= 2;
	}
	*cap_r = cap;
	return xrealloc(array, cap * elem_size);
}
