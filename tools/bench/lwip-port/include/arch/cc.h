/*
 * arch/cc.h of the benchmark's plain-lwIP port (Linux, pthreads): what
 * lwIP's arch.h asks a port for, and nothing else. Our own code.
 */
#ifndef INC_BENCH_LWIP_CC_H
#define INC_BENCH_LWIP_CC_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>

/* struct timeval comes from <sys/time.h>; errno from <errno.h>. */
#define LWIP_TIMEVAL_PRIVATE 0
#define LWIP_ERRNO_STDINCLUDE 1

#define LWIP_PLATFORM_DIAG(x) do { printf x; } while (0)
#define LWIP_PLATFORM_ASSERT(x)                                                              \
	do {                                                                                 \
		fprintf(stderr, "lwIP assertion \"%s\" failed at %s:%d\n", x, __FILE__, __LINE__); \
		abort();                                                                     \
	} while (0)

/* Only initial ports and the like use it; random() is thread-safe in glibc. */
#define LWIP_RAND() ((uint32_t)random())

#endif
