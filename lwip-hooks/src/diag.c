/* lwIP's diagnostics and assertion output (arch/cc.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "lwip/arch.h"

void inc__lwip_diag(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
}

void inc__lwip_assert_fail(const char *msg, const char *file, int line)
{
  fprintf(stderr, "lwIP assertion failed: \"%s\" at %s:%d\n", msg, file, line);
  fflush(NULL);
  abort();
}
