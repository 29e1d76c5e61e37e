/*
 * clock.c - monotonic and wall clocks.
 */
#include "autoconfig.h"

#include <time.h>

#include "clock.h"

static _Atomic int64_t wall_offset_s;

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
	return (int64_t)time(NULL) + wall_offset_s;
}

int64_t clock_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec + wall_offset_s) * 1000 + ts.tv_nsec / 1000000;
}

void clock_set_wall_offset(int64_t seconds)
{
	wall_offset_s = seconds;
}
