/*
 * Size scaling of the stress drivers (see lf_stress.h).
 */
#include <stdlib.h>

#include "lf_stress.h"

unsigned lf_scale(void) {
  const char *s = getenv("INC_LF_SCALE");
  long v = s ? strtol(s, NULL, 10) : 1;
  return v >= 1 ? (unsigned)v : 1u;
}

unsigned lf_scaled(unsigned n, unsigned min) {
  unsigned v = n / lf_scale();
  return v >= min ? v : min;
}
