/*
 * xalloc.h - memory allocation that never returns NULL.
 *
 * Running out of memory is not a condition a mail filter can answer
 * sensibly; like Postfix's mymalloc(), these functions log a fatal error and
 * abort instead of making every caller test for NULL.
 */
#ifndef LIMRISTEM_XALLOC_H
#define LIMRISTEM_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size) __attribute__((malloc, returns_nonnull));
void *xcalloc(size_t count, size_t size) __attribute__((malloc, returns_nonnull));
void *xrealloc(void *ptr, size_t size) __attribute__((returns_nonnull));
char *xstrdup(const char *s) __attribute__((malloc, returns_nonnull));
char *xstrndup(const char *s, size_t len) __attribute__((malloc, returns_nonnull));
/* Grows an array of *cap_r elements of elem_size to hold at least need. */
void *xgrow(void *array, size_t *cap_r, size_t need, size_t elem_size) __attribute__((returns_nonnull));

#endif
