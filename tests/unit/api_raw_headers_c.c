/* include/inception/raw.h alone, in a C11 translation unit. */
#include "inception/raw.h"

int inc_test_raw_headers_c(void);

int inc_test_raw_headers_c(void)
{
  struct inc_raw_tcp_ops ops = {0};
  struct inc_raw_config cfg = {0};
  return (ops.recv == 0) + (int)cfg.tcp_conns + INC_RAW_SHUT_RDWR;
}
