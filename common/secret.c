/*
 * secret.c - read secrets from files with safe permissions.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/secret.h"
#include "common/xalloc.h"

int secret_open(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (st.st_mode & S_IROTH) {
		snprintf(err, errlen, "%s: readable by others; refusing the secret in it (chmod o-rwx %s)",
			 path, path);
		close(fd);
		return -1;
	}
	return fd;
}

int secret_read_file(const char *path, char **secret_r, char *err, size_t errlen)
{
	char buf[SECRET_FILE_MAX + 1];
	ssize_t n;
	size_t len;
	int fd = secret_open(path, err, errlen);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0 || n > SECRET_FILE_MAX) {
		snprintf(err, errlen, "%s: %s", path, n < 0 ? strerror(errno) : "larger than 4 KiB");
		return -1;
	}
	buf[n] = '\0';
	len = strcspn(buf, "\r\n");
	*secret_r = xstrndup(buf, len);
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

void secret_free(char **secret)
{
	if (*secret == NULL)
		return;
	explicit_bzero(*secret, strlen(*secret));
	free(*secret);
	*secret = NULL;
}

void secret_list_clear(struct secret_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		secret_free(&list->items[i]);
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

static int list_fail(struct secret_list *list, char *line, char *err, size_t errlen,
		     const char *path, const char *why, size_t number)
{
	explicit_bzero(line, SECRET_LINE_MAX);
	secret_list_clear(list);
	if (number > 0)
		snprintf(err, errlen, "%s:%zu: %s", path, number, why);
	else
		snprintf(err, errlen, "%s: %s", path, why);
	return -1;
}

int secret_list_read(const char *path, size_t max, size_t min_length, struct secret_list *list_r,
		     char *err, size_t errlen)
{
	char line[SECRET_LINE_MAX];
	size_t number = 0;
	int fd = secret_open(path, err, errlen);
	FILE *fp;

	list_r->items = NULL;
	list_r->count = 0;
	if (fd < 0)
		return -1;
	if ((fp = fdopen(fd, "r")) == NULL) {
		close(fd);
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	list_r->items = xcalloc(max, sizeof(char *));
	while (list_r->count < max && fgets(line, sizeof(line), fp) != NULL) {
		size_t len = strcspn(line, "\r\n");

		number++;
		if (line[len] == '\0' && !feof(fp)) {
			fclose(fp);
			return list_fail(list_r, line, err, errlen, path, "line too long", number);
		}
		line[len] = '\0';
		if (len == 0)
			continue;
		if (len < min_length) {
			fclose(fp);
			return list_fail(list_r, line, err, errlen, path,
					 "secret too short (make one with: head -c 32 /dev/urandom | base64)",
					 number);
		}
		list_r->items[list_r->count++] = xstrdup(line);
	}
	fclose(fp);
	if (list_r->count == 0)
		return list_fail(list_r, line, err, errlen, path,
				 "no secret in it (one per line; the first signs)", 0);
	explicit_bzero(line, sizeof(line));
	return 0;
}
