/*
 * fiber.c - stacks of their own for checks that wait (see fiber.h), on
 * ucontext: makecontext() to start one, swapcontext() to switch. Stacks
 * are mmap'ed with a guard page below them and reused through the pool.
 */
#include "autoconfig.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "milter/fiber.h"

#if defined(__SANITIZE_ADDRESS__)
#define FIBER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FIBER_ASAN 1
#endif
#endif

#ifdef FIBER_ASAN
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom, size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save, const void **bottom_old,
				     size_t *size_old);
#define START_SWITCH(save, bottom, size) __sanitizer_start_switch_fiber(save, bottom, size)
#define FINISH_SWITCH(save, bottom_r, size_r) __sanitizer_finish_switch_fiber(save, bottom_r, size_r)
#else
#define START_SWITCH(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#define FINISH_SWITCH(save, bottom_r, size_r) ((void)(save), (void)(bottom_r), (void)(size_r))
#endif

struct fiber {
	struct fiber_pool *pool;
	ucontext_t context;
	char *stack;			/* above the guard page */
	void (*fn)(void *arg);
	void *arg;
	bool ended, cancelled;
	void (*wake)(void *arg);
	void *wake_arg;
	struct fiber *next_free;
	void *fake_stack;		/* AddressSanitizer's, while switched away */
	const void *resumer_bottom;	/* the loop's stack, for switching back */
	size_t resumer_size;
};

struct fiber_pool {
	struct fiber *free_list;
	size_t free_count, keep;
};

static __thread struct fiber *current;
static __thread ucontext_t resumer;
static __thread void *resumer_fake_stack;

static size_t page_size(void)
{
	long n = sysconf(_SC_PAGESIZE);

	return n > 0 ? (size_t)n : 4096;
}

struct fiber_pool *fiber_pool_new(size_t keep)
{
	struct fiber_pool *p = xcalloc(1, sizeof(*p));

	p->keep = keep;
	return p;
}

static void destroy(struct fiber *f)
{
	size_t guard = page_size();

	munmap(f->stack - guard, FIBER_STACK_SIZE + guard);
	free(f);
}

void fiber_pool_free(struct fiber_pool **pp)
{
	struct fiber_pool *p = *pp;

	if (p == NULL)
		return;
	while (p->free_list != NULL) {
		struct fiber *f = p->free_list;

		p->free_list = f->next_free;
		destroy(f);
	}
	free(p);
	*pp = NULL;
}

static void trampoline(void)
{
	struct fiber *f = current;

	FINISH_SWITCH(NULL, &f->resumer_bottom, &f->resumer_size);
	f->fn(f->arg);
	f->ended = true;
	START_SWITCH(NULL, f->resumer_bottom, f->resumer_size);	/* this frame ends */
	swapcontext(&f->context, &resumer);
	abort();	/* an ended fiber is never resumed */
}

static struct fiber *take_stack(struct fiber_pool *p)
{
	size_t guard = page_size();
	struct fiber *f;
	char *mem;

	if (p->free_list != NULL) {
		f = p->free_list;
		p->free_list = f->next_free;
		p->free_count--;
		return f;
	}
	mem = mmap(NULL, FIBER_STACK_SIZE + guard, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	if (mem == MAP_FAILED)
		return NULL;
	if (mprotect(mem, guard, PROT_NONE) < 0) {
		munmap(mem, FIBER_STACK_SIZE + guard);
		return NULL;
	}
	f = xcalloc(1, sizeof(*f));
	f->stack = mem + guard;
	return f;
}

/* A context that starts trampoline() on stack. Apart, since getcontext()
 * returns twice as far as the compiler knows. */
static int start_context(ucontext_t *context, char *stack)
{
	if (getcontext(context) < 0)
		return -1;
	context->uc_stack.ss_sp = stack;
	context->uc_stack.ss_size = FIBER_STACK_SIZE;
	context->uc_link = NULL;
	makecontext(context, trampoline, 0);
	return 0;
}

struct fiber *fiber_new(struct fiber_pool *p, void (*fn)(void *arg), void *arg)
{
	struct fiber *f = take_stack(p);

	if (f == NULL)
		return NULL;
	f->pool = p;
	f->fn = fn;
	f->arg = arg;
	f->ended = f->cancelled = false;
	f->wake = NULL;
	f->wake_arg = NULL;
	f->fake_stack = NULL;
	if (start_context(&f->context, f->stack) < 0) {
		destroy(f);
		return NULL;
	}
	return f;
}

void fiber_resume(struct fiber *f)
{
	if (current != NULL || f->ended) {
		log_error("milter: fiber resumed from a fiber or after its end");
		abort();
	}
	current = f;
	START_SWITCH(&resumer_fake_stack, f->stack, FIBER_STACK_SIZE);
	swapcontext(&resumer, &f->context);
	FINISH_SWITCH(resumer_fake_stack, NULL, NULL);
	current = NULL;
}

bool fiber_ended(const struct fiber *f)
{
	return f->ended;
}

void fiber_release(struct fiber **fp)
{
	struct fiber *f = *fp;

	if (f == NULL)
		return;
	if (!f->ended) {
		log_error("milter: a fiber released before its end");
		abort();
	}
	if (f->pool->free_count < f->pool->keep) {
		f->next_free = f->pool->free_list;
		f->pool->free_list = f;
		f->pool->free_count++;
	} else {
		destroy(f);
	}
	*fp = NULL;
}

struct fiber *fiber_current(void)
{
	return current;
}

void fiber_wait(void)
{
	struct fiber *f = current;

	if (f == NULL) {
		log_error("milter: fiber_wait outside a fiber");
		abort();
	}
	if (f->cancelled)
		return;
	START_SWITCH(&f->fake_stack, f->resumer_bottom, f->resumer_size);
	swapcontext(&f->context, &resumer);
	FINISH_SWITCH(f->fake_stack, &f->resumer_bottom, &f->resumer_size);
}

void fiber_cancel(struct fiber *f)
{
	f->cancelled = true;
}

bool fiber_cancelled(const struct fiber *f)
{
	return f->cancelled;
}

void fiber_set_waker(struct fiber *f, void (*wake)(void *arg), void *arg)
{
	f->wake = wake;
	f->wake_arg = arg;
}

void fiber_wake(struct fiber *f)
{
	if (f->wake != NULL)
		f->wake(f->wake_arg);
}
