/* The API's public headers compile alone as C11 (each after nothing else). */
#include "inception/addr.h"
#include "inception/conn.h"
#include "inception/socket.h"

int api_headers_c(void);
int api_headers_c(void)
{
  struct inc_addr a = inc_addr_ip4(198, 18, 0, 1);
  return a.family == INC_AF_INET ? (int)INC_POLLIN : 0;
}
