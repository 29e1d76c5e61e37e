/*
 * bench_util.h - what the load generators of tests/bench share: a
 * monotonic clock, connecting to "unix:/path" or "host:port", and sorting
 * latency samples for percentiles.
 */
#ifndef LIMRISTEM_BENCH_UTIL_H
#define LIMRISTEM_BENCH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int64_t bench_now_ns(void);
/* A connected stream socket, or -1. nodelay: TCP_NODELAY on a TCP one. */
int bench_connect(const char *address, bool nodelay);
/* Sorts samples in place, smallest first. */
void bench_sort_samples(uint64_t *samples, size_t count);

#endif
