/*
 * domainset.h - a set of domain names: "is this one of ours?"
 *
 * Names are stored lowercase without a trailing dot. An entry written with
 * a leading dot (".example.org") matches every subdomain of example.org,
 * as in postsrsd's domain lists; "example.org" itself matches only itself.
 * Read-only after it is built, so a new set can be built in one thread and
 * swapped in by another.
 */
#ifndef LIMRISTEM_DOMAINSET_H
#define LIMRISTEM_DOMAINSET_H

#include <stdbool.h>
#include <stddef.h>

struct domain_set;

struct domain_set *domain_set_new(void);
void domain_set_free(struct domain_set **set);
/* Adds name (".name" for its subdomains); -1 with *why_r when invalid. */
int domain_set_add(struct domain_set *set, const char *name, const char **why_r);
bool domain_set_contains(const struct domain_set *set, const char *domain, size_t len);
size_t domain_set_count(const struct domain_set *set);

/* Reads one name per line ('#' starts a comment). On error: -1 and
 * "file:line: reason" in err. */
int domain_set_read_file(const char *path, struct domain_set **set_r, char *err, size_t errlen);

#endif
