/*
 * Internals shared by the lockfree/ sources: alignment helpers, the owner
 * check of checked builds, and ThreadSanitizer annotations.
 */
#ifndef INC_LF_PRIV_H
#define INC_LF_PRIV_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define INC_LF_CACHELINE 64

#define INC_LF_LIKELY(x) __builtin_expect(!!(x), 1)
#define INC_LF_UNLIKELY(x) __builtin_expect(!!(x), 0)

static inline size_t inc__align_up(size_t v, size_t a) { return (v + a - 1) & ~(a - 1); }
static inline int inc__is_pow2(unsigned long v) { return v != 0 && (v & (v - 1)) == 0; }

/*
 * Owner check (STYLE 6). An owner is a pthread_t recorded by a *_bind()
 * call; `bound` says whether one was. INC_LOCKFREE_CHECK_OWNER is defined in
 * Debug and sanitizer builds (lockfree/CMakeLists.txt).
 *
 * `bound` is written once by the binding thread before the owner starts using
 * the object and read by the owner only, so a relaxed atomic suffices; it is
 * atomic so that a racing stats reader stays well defined.
 */
struct inc__owner {
  pthread_t thread;
  int bound;
};

static inline void inc__owner_bind(struct inc__owner *o) {
  o->thread = pthread_self();
  /* Relaxed: only the binding thread itself acts on `bound` (see above). */
  __atomic_store_n(&o->bound, 1, __ATOMIC_RELAXED);
}

#ifdef INC_LOCKFREE_CHECK_OWNER
void inc__owner_fail(const char *what, const char *file, int line);
#define INC_LF_ASSERT_OWNER(o, what)                                         \
  do {                                                                       \
    if (__atomic_load_n(&(o)->bound, __ATOMIC_RELAXED) &&                    \
        !pthread_equal((o)->thread, pthread_self()))                         \
      inc__owner_fail((what), __FILE__, __LINE__);                           \
  } while (0)
#else
#define INC_LF_ASSERT_OWNER(o, what) ((void)(o))
#endif

/*
 * ThreadSanitizer cannot see ConcurrencyKit's and liburcu's inline-assembly
 * fences and atomics, nor anything inside the (uninstrumented) liburcu
 * libraries. Where such a library orders our memory accesses, we state the
 * happens-before edge it provides with these annotations, at the exact point
 * where the library publishes (release) or observes (acquire). They compile to
 * nothing outside TSan builds. The address is only a key.
 */
#if defined(__SANITIZE_THREAD__)
#define INC_LF_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define INC_LF_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define INC_LF_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define INC_LF_ASAN 1
#endif
#endif

#ifdef INC_LF_TSAN
#include <sanitizer/tsan_interface.h>
#define INC_TSAN_RELEASE(addr) __tsan_release((void *)(uintptr_t)(addr))
#define INC_TSAN_ACQUIRE(addr) __tsan_acquire((void *)(uintptr_t)(addr))
#else
#define INC_TSAN_RELEASE(addr) ((void)(addr))
#define INC_TSAN_ACQUIRE(addr) ((void)(addr))
#endif

/*
 * The key of liburcu's grace periods for TSan: every reader releases it when
 * it announces a quiescent state or goes offline, and reclamation acquires it
 * after the grace period (rcu.c, flow.c).
 */
const void *inc__rcu_gp_key(void);

#endif /* INC_LF_PRIV_H */
