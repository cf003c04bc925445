/*
 * Inception's lwIP compiler/platform abstraction (lwIP's arch/cc.h).
 * Linux, gcc or clang; byte order from <endian.h>.
 */
#ifndef INC_LWIP_ARCH_CC_H
#define INC_LWIP_ARCH_CC_H

#include <endian.h>
#include <stdint.h>
#include <sys/time.h> /* struct timeval: lwIP must not define its own */

#define LWIP_TIMEVAL_PRIVATE 0
#define LWIP_ERRNO_STDINCLUDE 1

/* <endian.h> defines BYTE_ORDER, LITTLE_ENDIAN and BIG_ENDIAN as lwIP expects. */

#ifdef __cplusplus
extern "C" {
#endif

/* Defined in lwip-hooks/platform.c. */
uint32_t inc__lwip_rand(void);
void inc__lwip_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void inc__lwip_assert_fail(const char *msg, const char *file, int line) __attribute__((noreturn));
void inc__lwip_assert_owner(void);

#ifdef __cplusplus
}
#endif

/* Per-instance generator, seeded from getrandom() when the instance starts:
 * ISNs and ephemeral ports differ between cores and between runs. */
#define LWIP_RAND() inc__lwip_rand()

#define LWIP_PLATFORM_DIAG(x) \
  do {                        \
    inc__lwip_diag x;         \
  } while (0)

#define LWIP_PLATFORM_ASSERT(x) inc__lwip_assert_fail((x), __FILE__, __LINE__)

#endif /* INC_LWIP_ARCH_CC_H */
