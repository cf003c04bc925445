/*
 * inc-echo: a zero-copy echo server on the per-core raw API (ex_echo.c).
 *
 * Default: the server stack and a client stack in this process, joined by
 * the software RSS wire; the client (sockets API, ex_client.c) echoes
 * --bytes over each of --conns connections (IPv4 and IPv6 in turn), checks
 * every byte, and the program exits 0 when all came back and the server
 * closed each connection in order.
 * --tap IF: serves Linux on a tap device until SIGINT/SIGTERM.
 *
 * Exit status: 0 ok; 1 a byte differed, a connection failed or a buffer
 * leaked; 2 bad usage or set-up.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ex_client.h"
#include "ex_common.h"
#include "ex_echo.h"
#include "ex_serve.h"

static const struct ex_prog k_prog = {
    .name = "inc-echo",
    .summary = "A zero-copy echo server on Inception's per-core raw API (callbacks on the worker\n"
               "cores; received buffers are written back by reference and freed when the peer\n"
               "acknowledged them). By default it runs over the software RSS wire with a built-in\n"
               "client that sends --bytes on each of --conns connections (IPv4 and IPv6 in turn),\n"
               "verifies every byte that comes back and exits 0. With --tap it serves Linux's\n"
               "clients (e.g. nc -N ADDR PORT) until SIGINT or SIGTERM.",
    .extra = "  --conns C          wire mode: client connections (default 4)\n"
             "  --bytes N          wire mode: bytes echoed per connection (default 1048576)\n"
             "  --duration S       tap mode: stop after S seconds (default 0: at SIGINT/SIGTERM)\n",
    .accept = EX_OPT_CONNS | EX_OPT_BYTES | EX_OPT_DURATION,
    .default_port = 7,
    .default_requests = 1,
    .default_conns = 4,
    .default_bytes = 1u << 20,
};

static void report(void *arg)
{
  struct ex_echo_totals t;
  ex_echo_totals(arg, &t);
  printf("inc-echo: %" PRIu64 " connections, %" PRIu64 " finished, %" PRIu64 " failed, %" PRIu64 " bytes echoed\n",
         t.accepted, t.finished, t.failed, t.bytes);
  fflush(stdout);
}

int main(int argc, char **argv)
{
  struct ex_opts o;
  struct ex_env e;
  struct inc_stack_callbacks cb;
  struct ex_echo *srv;
  struct ex_echo_totals t;
  int rc = 0;

  if (ex_parse(argc, argv, &k_prog, &o) != 0) {
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  ex_signals();
  srv = ex_echo_new(o.workers, o.port, &cb);
  if (srv == NULL) {
    fprintf(stderr, "inc-echo: no memory\n");
    return 2;
  }
  if (ex_env_init(&e, &o) != 0) {
    return 2;
  }
  ex_block_signals(0);
  if (ex_stack_start(&e, EX_SERVER, &cb, 0) != 0 || ex_echo_listen_errors(srv) != 0) {
    ex_env_fini(&e);
    return 2;
  }
  if (o.tap != NULL) {
    ex_serve_wait(&o, report, srv);
    ex_echo_totals(srv, &t);
  } else {
    struct ex_client_cfg cc = {0};
    struct ex_client_result r;
    double end;
    if (ex_stack_start(&e, EX_CLIENT, NULL, 1) != 0) {
      ex_env_fini(&e);
      return 2;
    }
    cc.prog = o.prog;
    cc.api = e.api[EX_CLIENT];
    cc.servers[0] = ex_wire_server_addr(INC_AF_INET);
    cc.servers[1] = ex_wire_server_addr(INC_AF_INET6);
    cc.n_servers = 2;
    cc.port = o.port;
    cc.conns = o.conns;
    cc.echo = 1;
    cc.echo_bytes = o.bytes;
    cc.quiet = o.quiet;
    if (ex_client_run(&cc, &r) != 0) {
      rc = 1;
    }
    /* the server closes each connection once it has echoed it whole */
    end = ex_now() + 10;
    do {
      ex_echo_totals(srv, &t);
    } while (t.finished < o.conns && ex_now() < end && usleep(10000) == 0);
    printf("inc-echo: client: %u connections (IPv4 and IPv6), %" PRIu64 " bytes echoed and verified in %.2f s "
           "(%.1f Mbit/s)\n",
           o.conns, r.bytes, r.seconds, r.seconds > 0 ? (double)r.bytes * 8 / r.seconds / 1e6 : 0.0);
    if (r.bytes != (uint64_t)o.conns * o.bytes || t.finished != o.conns || t.failed != 0 ||
        t.bytes != (uint64_t)o.conns * o.bytes) {
      fprintf(stderr, "inc-echo: FAILED: client verified %" PRIu64 " of %" PRIu64 " bytes; server echoed %" PRIu64
                      ", finished %" PRIu64 " of %u connections, %" PRIu64 " failed\n",
              r.bytes, (uint64_t)o.conns * o.bytes, t.bytes, t.finished, o.conns, t.failed);
      rc = 1;
    }
  }
  if (ex_env_fini(&e) != 0) {
    rc = 1;
  }
  printf("inc-echo: server: %" PRIu64 " connections, %" PRIu64 " finished in order, %" PRIu64 " failed, %" PRIu64
         " refused, %" PRIu64 " bytes echoed%s\n",
         t.accepted, t.finished, t.failed, t.refused, t.bytes, rc == 0 ? "; ok" : "; FAILED");
  ex_echo_free(srv);
  return rc;
}
