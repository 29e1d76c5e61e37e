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

#include "secret.h"
#include "xalloc.h"

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
