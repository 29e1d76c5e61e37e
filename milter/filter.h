/*
 * filter.h - the milter's filter (filter.c) for the engine (engine.h):
 * what each session's events do, and what every event loop holds for
 * the connections it serves.
 */
#ifndef LIMRISTEM_MILTER_FILTER_H
#define LIMRISTEM_MILTER_FILTER_H

#include "milter/engine.h"
#include "milter/milter.h"
#include "milter/session.h"
#include "milter/wait.h"

struct fiber_pool;

/* Per event loop: the sessions' filter_arg. */
struct filter_loop {
	const struct milter_context *mc;
	struct milter_engine *engine;	/* its memory limit; NULL in tests */
	struct wait_loop wait;		/* the loop's base, resolver and Redis client */
	struct fiber_pool *fibers;
};

extern const struct milter_filter milter_filter;

#endif
