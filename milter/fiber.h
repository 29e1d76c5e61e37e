/*
 * fiber.h - stacks of their own for the checks of one message, so that
 * code written as a sequence of blocking questions (libspf2, our DKIM and
 * ARC verifiers, greylisting) can wait for DNS or Redis without holding up
 * the event loop that runs it.
 *
 * A fiber runs fn(arg) on its own stack. fiber_resume() runs it until it
 * calls fiber_wait() or returns; fiber_wait() goes back to the resumer
 * (the loop), which resumes the fiber once what it waited for arrived.
 * Fibers belong to the thread that made them and never move; each event
 * loop has its own (struct fiber_pool keeps ended ones for reuse, so a
 * message costs no mmap).
 *
 * A fiber that is no longer wanted (the MTA went away) is not freed while
 * it waits, since its stack holds the checks' resources: it is told
 * (fiber_cancel) and resumed, every wait from then on returns at once,
 * and the checks run to their end and free what they hold.
 *
 * Under AddressSanitizer the switches are announced to it
 * (__sanitizer_start_switch_fiber), so stacks are checked as usual.
 */
#ifndef LIMRISTEM_MILTER_FIBER_H
#define LIMRISTEM_MILTER_FIBER_H

#include <stdbool.h>
#include <stddef.h>

#define FIBER_STACK_SIZE (512 * 1024)	/* reserved, not committed: only pages used count */

struct fiber;
struct fiber_pool;

struct fiber_pool *fiber_pool_new(size_t keep);
/* Only when none of its fibers is running or waiting. */
void fiber_pool_free(struct fiber_pool **pool);

/* A fiber that will run fn(arg) when first resumed; NULL when no stack
 * can be had (out of memory). */
struct fiber *fiber_new(struct fiber_pool *pool, void (*fn)(void *arg), void *arg);
/* Runs f until it waits or ends. From outside any fiber. */
void fiber_resume(struct fiber *f);
bool fiber_ended(const struct fiber *f);
/* Gives an ended fiber's stack back to the pool; f is NULL afterwards. */
void fiber_release(struct fiber **f);

/* The fiber running now, NULL outside one. */
struct fiber *fiber_current(void);
/* From inside a fiber: back to the resumer, until it resumes us. */
void fiber_wait(void);
/* Marks f as unwanted: its waits return at once from now on. */
void fiber_cancel(struct fiber *f);
bool fiber_cancelled(const struct fiber *f);

/* What wakes f when what it waits for has come (the owner resumes it from
 * the loop, never from inside the callback that brought the answer). */
void fiber_set_waker(struct fiber *f, void (*wake)(void *arg), void *arg);
void fiber_wake(struct fiber *f);

#endif
