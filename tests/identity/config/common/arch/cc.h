/*
 * arch/cc.h for the build-comparison configurations of tests/identity.
 * Assertions must not embed __LINE__: a patch moves lines, and the point is to
 * compare what the code does, not where it sits in the file.
 */
#ifndef INC_IDENTITY_CC_H
#define INC_IDENTITY_CC_H

#include <stdint.h>
#include <stdlib.h>
#include <sys/time.h>

#define LWIP_TIMEVAL_PRIVATE 0
#define LWIP_ERRNO_STDINCLUDE 1

void inc_identity_diag(const char *fmt, ...);
void inc_identity_assert(const char *msg);
uint32_t inc_identity_rand(void);

#define LWIP_PLATFORM_DIAG(x) do { inc_identity_diag x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) do { inc_identity_assert(x); } while (0)
#define LWIP_RAND() inc_identity_rand()

#endif
