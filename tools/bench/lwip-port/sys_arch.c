/*
 * sys_arch for the benchmark's plain-lwIP port: lwIP's OS layer (lwip/sys.h)
 * on POSIX threads, written for this benchmark.
 *
 * Semaphores and mailboxes are a mutex plus condition variables on
 * CLOCK_MONOTONIC; a mailbox is a bounded ring of pointers. Timed waits
 * return the milliseconds waited, or SYS_ARCH_TIMEOUT, as sys.h specifies.
 *
 * One process-wide object: lwIP's sys_arch_protect() takes no argument, so
 * its lock cannot live in a struct the caller passes; it is a recursive
 * mutex initialised statically (protect_lock below). That is the contract
 * of lwIP's port interface, which assumes one stack per process.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lwip/err.h"
#include "lwip/sys.h"

struct inc_bench_sys_mbox {
	pthread_mutex_t mu;
	pthread_cond_t not_empty;
	pthread_cond_t not_full;
	unsigned size;
	unsigned head, count;
	void *msg[];
};

static pthread_mutex_t protect_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void deadline_after(struct timespec *ts, u32_t ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000u;
	ts->tv_nsec += (long)(ms % 1000u) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static int cond_init_monotonic(pthread_cond_t *cv)
{
	pthread_condattr_t a;
	int rc;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	rc = pthread_cond_init(cv, &a);
	pthread_condattr_destroy(&a);
	return rc;
}

/* Wait on cv until pred is true or the timeout (0: none) passes.
 * Returns the ms waited, or SYS_ARCH_TIMEOUT. Called with mu held. */
#define TIMED_WAIT(cv, mu, timeout, pred, result)                                      \
	do {                                                                           \
		uint64_t t0_ = now_ms();                                               \
		struct timespec until_;                                                \
		if ((timeout) != 0)                                                    \
			deadline_after(&until_, (timeout));                            \
		(result) = 0;                                                          \
		while (!(pred)) {                                                      \
			if ((timeout) == 0) {                                          \
				pthread_cond_wait((cv), (mu));                         \
			} else if (pthread_cond_timedwait((cv), (mu), &until_) == ETIMEDOUT \
				   && !(pred)) {                                       \
				(result) = SYS_ARCH_TIMEOUT;                           \
				break;                                                 \
			}                                                              \
		}                                                                      \
		if ((result) != SYS_ARCH_TIMEOUT)                                      \
			(result) = (u32_t)(now_ms() - t0_);                            \
	} while (0)

void sys_init(void)
{
}

u32_t sys_now(void)
{
	return (u32_t)now_ms();
}

sys_prot_t sys_arch_protect(void)
{
	pthread_mutex_lock(&protect_lock);
	return 0;
}

void sys_arch_unprotect(sys_prot_t pval)
{
	(void)pval;
	pthread_mutex_unlock(&protect_lock);
}

/* ---- semaphores ---- */

err_t sys_sem_new(sys_sem_t *sem, u8_t count)
{
	if (pthread_mutex_init(&sem->mu, NULL) != 0)
		return ERR_MEM;
	if (cond_init_monotonic(&sem->cv) != 0) {
		pthread_mutex_destroy(&sem->mu);
		return ERR_MEM;
	}
	sem->count = count;
	sem->valid = 1;
	return ERR_OK;
}

void sys_sem_signal(sys_sem_t *sem)
{
	pthread_mutex_lock(&sem->mu);
	sem->count++;
	pthread_cond_signal(&sem->cv);
	pthread_mutex_unlock(&sem->mu);
}

u32_t sys_arch_sem_wait(sys_sem_t *sem, u32_t timeout)
{
	u32_t waited;

	pthread_mutex_lock(&sem->mu);
	TIMED_WAIT(&sem->cv, &sem->mu, timeout, sem->count > 0, waited);
	if (waited != SYS_ARCH_TIMEOUT)
		sem->count--;
	pthread_mutex_unlock(&sem->mu);
	return waited;
}

void sys_sem_free(sys_sem_t *sem)
{
	pthread_cond_destroy(&sem->cv);
	pthread_mutex_destroy(&sem->mu);
	sem->valid = 0;
}

/* ---- mutexes ---- */

err_t sys_mutex_new(sys_mutex_t *mutex)
{
	if (pthread_mutex_init(&mutex->mu, NULL) != 0)
		return ERR_MEM;
	mutex->valid = 1;
	return ERR_OK;
}

void sys_mutex_lock(sys_mutex_t *mutex)
{
	pthread_mutex_lock(&mutex->mu);
}

void sys_mutex_unlock(sys_mutex_t *mutex)
{
	pthread_mutex_unlock(&mutex->mu);
}

void sys_mutex_free(sys_mutex_t *mutex)
{
	pthread_mutex_destroy(&mutex->mu);
	mutex->valid = 0;
}

/* ---- mailboxes ---- */

err_t sys_mbox_new(sys_mbox_t *mbox, int size)
{
	unsigned n = size > 0 ? (unsigned)size : 128u;
	struct inc_bench_sys_mbox *m = calloc(1, sizeof *m + n * sizeof m->msg[0]);

	*mbox = NULL;
	if (m == NULL)
		return ERR_MEM;
	if (pthread_mutex_init(&m->mu, NULL) != 0)
		goto fail_mu;
	if (cond_init_monotonic(&m->not_empty) != 0)
		goto fail_ne;
	if (cond_init_monotonic(&m->not_full) != 0)
		goto fail_nf;
	m->size = n;
	*mbox = m;
	return ERR_OK;
fail_nf:
	pthread_cond_destroy(&m->not_empty);
fail_ne:
	pthread_mutex_destroy(&m->mu);
fail_mu:
	free(m);
	return ERR_MEM;
}

static void mbox_put(struct inc_bench_sys_mbox *m, void *msg)
{
	m->msg[(m->head + m->count) % m->size] = msg;
	m->count++;
	pthread_cond_signal(&m->not_empty);
}

static void *mbox_take(struct inc_bench_sys_mbox *m)
{
	void *msg = m->msg[m->head];

	m->head = (m->head + 1u) % m->size;
	m->count--;
	pthread_cond_signal(&m->not_full);
	return msg;
}

void sys_mbox_post(sys_mbox_t *mbox, void *msg)
{
	struct inc_bench_sys_mbox *m = *mbox;
	u32_t waited;

	pthread_mutex_lock(&m->mu);
	TIMED_WAIT(&m->not_full, &m->mu, 0, m->count < m->size, waited);
	(void)waited;
	mbox_put(m, msg);
	pthread_mutex_unlock(&m->mu);
}

err_t sys_mbox_trypost(sys_mbox_t *mbox, void *msg)
{
	struct inc_bench_sys_mbox *m = *mbox;
	err_t rc = ERR_MEM;

	pthread_mutex_lock(&m->mu);
	if (m->count < m->size) {
		mbox_put(m, msg);
		rc = ERR_OK;
	}
	pthread_mutex_unlock(&m->mu);
	return rc;
}

err_t sys_mbox_trypost_fromisr(sys_mbox_t *mbox, void *msg)
{
	return sys_mbox_trypost(mbox, msg);
}

u32_t sys_arch_mbox_fetch(sys_mbox_t *mbox, void **msg, u32_t timeout)
{
	struct inc_bench_sys_mbox *m = *mbox;
	u32_t waited;

	pthread_mutex_lock(&m->mu);
	TIMED_WAIT(&m->not_empty, &m->mu, timeout, m->count > 0, waited);
	if (waited != SYS_ARCH_TIMEOUT) {
		void *got = mbox_take(m);

		if (msg != NULL)
			*msg = got;
	}
	pthread_mutex_unlock(&m->mu);
	return waited;
}

u32_t sys_arch_mbox_tryfetch(sys_mbox_t *mbox, void **msg)
{
	struct inc_bench_sys_mbox *m = *mbox;
	u32_t rc = SYS_MBOX_EMPTY;

	pthread_mutex_lock(&m->mu);
	if (m->count > 0) {
		void *got = mbox_take(m);

		if (msg != NULL)
			*msg = got;
		rc = 0;
	}
	pthread_mutex_unlock(&m->mu);
	return rc;
}

void sys_mbox_free(sys_mbox_t *mbox)
{
	struct inc_bench_sys_mbox *m = *mbox;

	if (m == NULL)
		return;
	pthread_cond_destroy(&m->not_full);
	pthread_cond_destroy(&m->not_empty);
	pthread_mutex_destroy(&m->mu);
	free(m);
	*mbox = NULL;
}

/* ---- threads ---- */

struct thread_start {
	lwip_thread_fn fn;
	void *arg;
};

static void *thread_trampoline(void *p)
{
	struct thread_start s = *(struct thread_start *)p;

	free(p);
	s.fn(s.arg);
	return NULL;
}

sys_thread_t sys_thread_new(const char *name, lwip_thread_fn thread, void *arg, int stacksize, int prio)
{
	struct thread_start *s = malloc(sizeof *s);
	pthread_attr_t attr;
	pthread_t t;

	(void)prio;
	LWIP_ASSERT("sys_thread_new: out of memory", s != NULL);
	s->fn = thread;
	s->arg = arg;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (stacksize > 0)
		pthread_attr_setstacksize(&attr, (size_t)stacksize);
	int rc = pthread_create(&t, &attr, thread_trampoline, s);

	pthread_attr_destroy(&attr);
	LWIP_ASSERT("sys_thread_new: pthread_create failed", rc == 0);
	if (name != NULL) {
		char shortname[16];

		strncpy(shortname, name, sizeof shortname - 1);
		shortname[sizeof shortname - 1] = '\0';
		pthread_setname_np(t, shortname);
	}
	return t;
}
