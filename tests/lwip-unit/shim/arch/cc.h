/*
 * arch/cc.h for lwIP's own unit suite (test/unit from the lwIP tarball),
 * standing in for contrib/ports/unix, which the tarball does not ship.
 */
#ifndef INC_LWIP_UNIT_CC_H
#define INC_LWIP_UNIT_CC_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>

#define LWIP_TIMEVAL_PRIVATE 0
#define LWIP_ERRNO_STDINCLUDE 1
#define LWIP_RAND() ((u32_t)random())

#define LWIP_PLATFORM_DIAG(x) do { printf x; } while (0)
#define LWIP_PLATFORM_ASSERT(x)                                                 \
  do {                                                                          \
    printf("Assertion \"%s\" failed at line %d in %s\n", x, __LINE__, __FILE__); \
    fflush(NULL);                                                               \
    abort();                                                                    \
  } while (0)

#endif
