/*
 * clock.c - monotonic and wall clocks.
 */
#include "autoconfig.h"

#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/number.h"

#define TEST_OFFSET_MAX_S (100LL * 366 * 86400)

static _Atomic int64_t wall_offset_s;

/* LIMRISTEM_TEST_CLOCK_FILE: tests move a running daemon's wall clock by
 * writing an offset in seconds into that file; read at every call, so
 * only ever set by the test harness. */
static const char *test_clock_file(void)
{
	static _Atomic int state;	/* 0 unknown, 1 none, 2 set */
	static const char *path;

	if (state == 0) {
		path = getenv("LIMRISTEM_TEST_CLOCK_FILE");
		state = path != NULL && path[0] != '\0' ? 2 : 1;
	}
	return state == 2 ? path : NULL;
}

static int64_t offset_s(void)
{
	const char *path = test_clock_file();
	char text[32];
	long long offset;
	ssize_t n;
	int fd;

	if (path == NULL || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return wall_offset_s;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		n--;
	/* a century either way at most, so no sum with it can overflow */
	if (n <= 0 || number_parse(text, (size_t)n, -TEST_OFFSET_MAX_S, TEST_OFFSET_MAX_S,
				   &offset) != NUMBER_OK)
		return wall_offset_s;
	return wall_offset_s + offset;
}

int64_t clock_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t clock_wall_s(void)
{
	return (int64_t)time(NULL) + offset_s();
}

int64_t clock_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec + offset_s()) * 1000 + ts.tv_nsec / 1000000;
}

void clock_set_wall_offset(int64_t seconds)
{
	wall_offset_s = seconds;
}
