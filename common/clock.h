/*
 * clock.h - the suite's notion of time.
 *
 * Monotonic milliseconds for timeouts and intervals; wall-clock seconds for
 * anything stored or compared across processes (greylist triplets, SRS
 * timestamps, expiries). The wall clock can be shifted by an offset so that
 * tests can move time forward instead of sleeping through a delay: in
 * process with clock_set_wall_offset(), in a running daemon through the
 * file named by LIMRISTEM_TEST_CLOCK_FILE (an offset in seconds).
 */
#ifndef LIMRISTEM_CLOCK_H
#define LIMRISTEM_CLOCK_H

#include <stdint.h>

int64_t clock_monotonic_ms(void);
/* Nanoseconds, for latency measurements. */
int64_t clock_monotonic_ns(void);
/* Seconds since the epoch, plus the offset set below. */
int64_t clock_wall_s(void);
/* The same in milliseconds (sliding windows shared between nodes). */
int64_t clock_wall_ms(void);
/* Adds seconds to every later clock_wall_s() in this process (tests). */
void clock_set_wall_offset(int64_t seconds);

#endif
