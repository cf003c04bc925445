/*
 * sys_arch.h of the benchmark's plain-lwIP port: lwIP's OS abstraction
 * (semaphores, mutexes, mailboxes, threads) on POSIX threads. Our own code;
 * the functions are implemented in ../../sys_arch.c.
 *
 * A semaphore and a mutex are structs kept by value inside lwIP's objects;
 * a mailbox is a pointer to a heap ring (lwIP creates one per connection,
 * as every lwIP port on an OS does).
 */
#ifndef INC_BENCH_LWIP_SYS_ARCH_H
#define INC_BENCH_LWIP_SYS_ARCH_H

#include <pthread.h>

struct inc_bench_sys_sem {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned count;
	int valid;
};

struct inc_bench_sys_mutex {
	pthread_mutex_t mu;
	int valid;
};

struct inc_bench_sys_mbox;

typedef struct inc_bench_sys_sem sys_sem_t;
typedef struct inc_bench_sys_mutex sys_mutex_t;
typedef struct inc_bench_sys_mbox *sys_mbox_t;
typedef pthread_t sys_thread_t;
typedef int sys_prot_t;

#define sys_sem_valid(s) ((s)->valid)
#define sys_sem_set_invalid(s) ((s)->valid = 0)
#define sys_mutex_valid(m) ((m)->valid)
#define sys_mutex_set_invalid(m) ((m)->valid = 0)
#define sys_mbox_valid(m) (*(m) != NULL)
#define sys_mbox_set_invalid(m) (*(m) = NULL)

#endif
