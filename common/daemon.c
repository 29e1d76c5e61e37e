/*
 * daemon.c - privileges, pid file, listening sockets and signals.
 */
#include "autoconfig.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/daemon.h"
#include "common/log.h"
#include "common/number.h"

#define LISTEN_BACKLOG 1024

/* A numeric user or group id: digits within uid_t, and never (uid_t)-1,
 * which setresuid() takes as "unchanged" (strtoul() used to let
 * "4294967296" wrap to 0: root). */
static bool parse_id(const char *s, unsigned long *id_r)
{
	long long v;

	if (*s < '0' || *s > '9')
		return false;	/* a name */
	if (number_parse_str(s, 0, (long long)(uid_t)-2, &v) != NUMBER_OK)
		return false;
	*id_r = (unsigned long)v;
	return true;
}

int daemon_lookup_ids(const char *user, const char *group, uid_t *uid_r, gid_t *gid_r,
		      char *err, size_t errlen)
{
	struct passwd *pw = NULL;
	struct group *gr;
	unsigned long id;

	if (user[0] != '\0') {
		pw = parse_id(user, &id) ? getpwuid((uid_t)id) : getpwnam(user);
		if (pw == NULL) {
			snprintf(err, errlen, "user \"%s\" does not exist", user);
			return -1;
		}
		*uid_r = pw->pw_uid;
		*gid_r = pw->pw_gid;
	}
	if (group[0] != '\0') {
		gr = parse_id(group, &id) ? getgrgid((gid_t)id) : getgrnam(group);
		if (gr == NULL) {
			snprintf(err, errlen, "group \"%s\" does not exist", group);
			return -1;
		}
		*gid_r = gr->gr_gid;
	}
	return 0;
}

int daemon_drop_privileges(const char *user, const char *group, char *err, size_t errlen)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	struct passwd *pw;

	if (user[0] == '\0')
		return 0;
	if (daemon_lookup_ids(user, group, &uid, &gid, err, errlen) < 0)
		return -1;
	if (uid == geteuid() && uid != 0)
		return 0;	/* already that user */
	if (geteuid() != 0) {
		snprintf(err, errlen, "must start as root to become user \"%s\"", user);
		return -1;
	}
	pw = getpwuid(uid);
	if (pw == NULL || initgroups(pw->pw_name, gid) < 0) {
		snprintf(err, errlen, "initgroups(%s): %s", user, strerror(errno));
		return -1;
	}
	if (setgid(gid) < 0 || setuid(uid) < 0) {
		snprintf(err, errlen, "cannot become %s: %s", user, strerror(errno));
		return -1;
	}
	if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid) {
		snprintf(err, errlen, "the switch to user %s did not take", user);
		return -1;
	}
	if (uid != 0 && setuid(0) == 0) {
		snprintf(err, errlen, "root privileges could be regained after dropping them");
		return -1;
	}
	return 0;
}

int daemon_pidfile_create(const char *path, char *err, size_t errlen)
{
	char text[32];
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	int n;

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ssize_t got = read(fd, text, sizeof(text) - 1);
		text[got > 0 ? got : 0] = '\0';
		text[strcspn(text, "\n")] = '\0';
		snprintf(err, errlen, "%s: already running (pid %s)", path, text[0] ? text : "?");
		close(fd);
		return -1;
	}
	n = snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || write(fd, text, (size_t)n) != n) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

void daemon_pidfile_remove(const char *path, int *fd)
{
	if (*fd < 0)
		return;
	if (unlink(path) < 0 && errno != ENOENT && errno != EACCES)
		log_warning("%s: %s", path, strerror(errno));
	close(*fd);
	*fd = -1;
}

/* An existing socket file is stale when connecting to it is refused. */
static int clear_stale_socket(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, live;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket", path);
		return -1;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	live = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	if (live) {
		snprintf(err, errlen, "%s is in use by another process", path);
		return -1;
	}
	if (unlink(path) < 0) {
		snprintf(err, errlen, "cannot remove stale socket %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int listen_unix(const char *path, unsigned mode, const char *owner, const char *group,
		       char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	mode_t old_mask;
	int fd, rc;

	if (daemon_lookup_ids(owner, group, &uid, &gid, err, errlen) < 0 ||
	    clear_stale_socket(path, err, errlen) < 0)
		return -1;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	old_mask = umask(0177);	/* nobody can connect before chmod */
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old_mask);
	if (rc < 0 || chmod(path, mode) < 0 ||
	    ((owner[0] != '\0' || group[0] != '\0') &&
	     chown(path, owner[0] ? uid : (uid_t)-1, group[0] ? gid : (gid_t)-1) < 0) ||
	    listen(fd, LISTEN_BACKLOG) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int listen_tcp(const struct endpoint *ep, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res;
	char port[8];
	int fd, on = 1, rc;

	snprintf(port, sizeof(port), "%u", (unsigned)ep->port);
	rc = getaddrinfo(ep->host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "%s:%s: %s", ep->host, port, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		snprintf(err, errlen, "%s:%s: %s", ep->host, port, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	return fd;
}

int daemon_listen(const struct endpoint *ep, unsigned mode, const char *owner,
		  const char *group, char *err, size_t errlen)
{
	if (ep->kind == ENDPOINT_UNIX)
		return listen_unix(ep->path, mode, owner, group, err, errlen);
	if (ep->kind == ENDPOINT_TCP)
		return listen_tcp(ep, err, errlen);
	snprintf(err, errlen, "no address to listen on");
	return -1;
}

/* --- signals -------------------------------------------------------------- */

struct signal_hooks {
	daemon_signal_fn *on_reload, *on_stop;
	void *arg;
};

static struct signal_hooks hooks;
static struct event *signal_events[3];

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	if (sig == SIGHUP) {
		log_info("SIGHUP: reloading");
		hooks.on_reload(hooks.arg);
	} else {
		log_info("%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
		hooks.on_stop(hooks.arg);
	}
}

int daemon_signals_attach(struct event_base *base, daemon_signal_fn *on_reload,
			  daemon_signal_fn *on_stop, void *arg)
{
	static const int sigs[3] = { SIGHUP, SIGTERM, SIGINT };

	signal(SIGPIPE, SIG_IGN);
	hooks = (struct signal_hooks){ on_reload, on_stop, arg };
	for (int i = 0; i < 3; i++) {
		signal_events[i] = evsignal_new(base, sigs[i], on_signal, NULL);
		if (signal_events[i] == NULL || event_add(signal_events[i], NULL) < 0)
			return -1;
	}
	return 0;
}

void daemon_signals_detach(void)
{
	for (int i = 0; i < 3; i++) {
		if (signal_events[i] != NULL)
			event_free(signal_events[i]);
		signal_events[i] = NULL;
	}
}
