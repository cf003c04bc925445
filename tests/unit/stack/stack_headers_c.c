/* stack/'s public headers, each alone, in a C11 translation unit. */
#include "inception/stack.h"
/* second header on its own guard */
#include "inception/stack_call.h"

int inc_test_stack_headers_c(void);

int inc_test_stack_headers_c(void)
{
  struct inc_stack_config cfg = {0};
  struct inc_stack_call call = {0};
  return (int)(cfg.workers + (unsigned)call.status) + 2;
}
