/* The tap mode of the servers (see ex_serve.h). */
#include "ex_serve.h"

#include <stdio.h>
#include <unistd.h>

void ex_serve_wait(const struct ex_opts *o, void (*report)(void *arg), void *arg)
{
  char a4[INC_ADDR_STRLEN] = "-", a6[INC_ADDR_STRLEN] = "-";
  double t0 = ex_now(), last = t0;
  if (o->ip4.family == INC_AF_INET) {
    inc_addr_format(&o->ip4, a4, sizeof(a4));
  }
  if (o->ip6.family == INC_AF_INET6) {
    inc_addr_format(&o->ip6, a6, sizeof(a6));
  }
  printf("%s: ready: port %u on %s and [%s] (tap %s, %u workers); SIGINT or SIGTERM stops\n", o->prog, o->port, a4,
         a6, o->tap, o->workers);
  fflush(stdout);
  while (!ex_stop_requested && (o->duration == 0 || ex_now() - t0 < o->duration)) {
    usleep(50000);
    if (report != NULL && !o->quiet && ex_now() - last >= 5) {
      last = ex_now();
      report(arg);
    }
  }
}
