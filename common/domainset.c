/*
 * domainset.c - exact and subdomain matching over a string set.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "common/domainset.h"
#include "common/strset.h"
#include "common/xalloc.h"

struct domain_set {
	struct strset *names;	/* "example.org" and ".example.org" */
	size_t count;
};

struct domain_set *domain_set_new(void)
{
	struct domain_set *set = xcalloc(1, sizeof(*set));

	set->names = strset_new();
	return set;
}

void domain_set_free(struct domain_set **setp)
{
	if (*setp == NULL)
		return;
	strset_free(&(*setp)->names);
	free(*setp);
	*setp = NULL;
}

int domain_set_add(struct domain_set *set, const char *name, const char **why_r)
{
	char normal[ADDR_DOMAIN_MAX + 2];
	bool subdomains = name[0] == '.';
	const char *bare = subdomains ? name + 1 : name;
	int len;

	if (domain_check(bare, strlen(bare), ADDR_ALLOW_UNDERSCORE, why_r) < 0)
		return -1;
	normal[0] = '.';
	len = domain_normalize(bare, strlen(bare), normal + 1, sizeof(normal) - 1);
	if (len < 0) {
		*why_r = "the domain is too long";
		return -1;
	}
	if (subdomains)
		strset_add(set->names, normal, (size_t)len + 1);
	else
		strset_add(set->names, normal + 1, (size_t)len);
	set->count = strset_count(set->names);
	return 0;
}

bool domain_set_contains(const struct domain_set *set, const char *domain, size_t len)
{
	char normal[ADDR_DOMAIN_MAX + 2];
	int n;

	if (set == NULL)
		return false;
	n = domain_normalize(domain, len, normal, sizeof(normal));
	if (n <= 0)
		return false;
	if (strset_contains(set->names, normal, (size_t)n))
		return true;
	/* ".parent" entries, from the closest parent up */
	for (int i = 0; i < n; i++)
		if (normal[i] == '.' && strset_contains(set->names, normal + i, (size_t)(n - i)))
			return true;
	return false;
}

size_t domain_set_count(const struct domain_set *set)
{
	return set != NULL ? set->count : 0;
}

int domain_set_read_file(const char *path, struct domain_set **set_r, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "r");
	struct domain_set *set;
	char line[1024];
	unsigned lineno = 0;

	if (fp == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	set = domain_set_new();
	while (fgets(line, sizeof(line), fp) != NULL) {
		const char *why;
		char *name, *save = NULL;
		lineno++;
		line[strcspn(line, "#")] = '\0';
		for (name = strtok_r(line, " \t\r\n,", &save); name != NULL;
		     name = strtok_r(NULL, " \t\r\n,", &save)) {
			if (domain_set_add(set, name, &why) < 0) {
				snprintf(err, errlen, "%s:%u: \"%s\": %s", path, lineno, name, why);
				fclose(fp);
				domain_set_free(&set);
				return -1;
			}
		}
	}
	fclose(fp);
	*set_r = set;
	return 0;
}
