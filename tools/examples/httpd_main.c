/*
 * inc-httpd: an HTTP/1.1 server with keep-alive on the sockets-style API
 * and inc_epoll_* (ex_httpd.c).
 *
 * Default: the server stack and a client stack in this process, joined by
 * the software RSS wire; the built-in client (ex_client.c) runs the fixed
 * checks (200, 404, HEAD, pipelining, 400) and --requests keep-alive
 * requests over --conns connections (IPv4 and IPv6 in turn), verifying
 * every byte; exits 0 when all were verified.
 * --tap IF: serves Linux's clients (curl, wget) until SIGINT/SIGTERM.
 *
 * Exit status: 0 ok; 1 a check failed, a byte differed or a buffer leaked;
 * 2 bad usage or set-up.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "ex_client.h"
#include "ex_common.h"
#include "ex_httpd.h"
#include "ex_serve.h"

static const struct ex_prog k_prog = {
    .name = "inc-httpd",
    .summary = "An HTTP/1.1 server with keep-alive on Inception's sockets-style API and its\n"
               "epoll-like readiness API. GET / and GET /bytes/N (N bytes of a deterministic\n"
               "stream: record k of 16 bytes is printf(\"%015x\\n\", k)); 404, 405, 400 for\n"
               "malformed requests. By default it runs over the software RSS wire with a\n"
               "built-in client that verifies every response and exits 0. With --tap it\n"
               "serves Linux's clients (curl, wget) until SIGINT or SIGTERM.",
    .extra = "  --requests N       wire mode: requests of the built-in client (default 2000)\n"
             "  --conns C          wire mode: its keep-alive connections (default 8)\n"
             "  --sizes LIST       wire mode: body sizes it asks for in turn\n"
             "                     (default 0,1,137,1460,4096,65536,300000)\n"
             "  --duration S       tap mode: stop after S seconds (default 0: at SIGINT/SIGTERM)\n",
    .accept = EX_OPT_REQUESTS | EX_OPT_CONNS | EX_OPT_SIZES | EX_OPT_DURATION,
    .default_port = 80,
    .default_requests = 2000,
    .default_conns = 8,
};

static void report(void *arg)
{
  struct ex_httpd_totals t;
  ex_httpd_totals(arg, &t);
  printf("inc-httpd: %" PRIu64 " connections, %" PRIu64 " responses (%" PRIu64 " 200, %" PRIu64 " 404, %" PRIu64
         " 400)\n",
         t.accepted, t.requests, t.ok, t.not_found, t.bad_request);
}

int main(int argc, char **argv)
{
  struct ex_opts o;
  struct ex_env e;
  struct ex_httpd *h = NULL;
  struct ex_httpd_totals t;
  int rc = 0;

  if (ex_parse(argc, argv, &k_prog, &o) != 0) {
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  ex_signals();
  if (ex_env_init(&e, &o) != 0) {
    return 2;
  }
  ex_block_signals(0);
  if (ex_stack_start(&e, EX_SERVER, NULL, 1) != 0 || ex_httpd_start(&h, e.api[EX_SERVER], o.port, o.quiet) != 0) {
    ex_env_fini(&e);
    return 2;
  }
  if (o.tap != NULL) {
    ex_serve_wait(&o, report, h);
    report(h);
  } else {
    struct ex_client_cfg cc = {0};
    struct ex_client_result r;
    if (ex_stack_start(&e, EX_CLIENT, NULL, 1) != 0) {
      ex_httpd_stop(h);
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
    cc.requests = o.requests;
    cc.sizes = o.sizes;
    cc.n_sizes = o.n_sizes;
    cc.checks = 1;
    cc.quiet = o.quiet;
    if (ex_client_run(&cc, &r) != 0) {
      rc = 1;
    }
    ex_httpd_totals(h, &t);
    printf("inc-httpd: client: %" PRIu64 " requests verified (%" PRIu64 " body bytes) on %u keep-alive connections "
           "in %.2f s: %.0f requests/s; %" PRIu64 " of 5 checks passed\n",
           r.requests, r.bytes, o.conns, r.seconds, r.seconds > 0 ? (double)r.requests / r.seconds : 0.0, r.checks);
    /* the checks make 6 requests: GET /, a 404, a HEAD, two pipelined, a 400 */
    if (r.requests != o.requests || r.checks != 5 || t.requests != (uint64_t)o.requests + 6 ||
        t.not_found != 1 || t.bad_request != 1 || t.ok != (uint64_t)o.requests + 4) {
      fprintf(stderr, "inc-httpd: FAILED: client verified %" PRIu64 " of %u requests and %" PRIu64
                      " of 5 checks; server answered %" PRIu64 " (%" PRIu64 " 200, %" PRIu64 " 404, %" PRIu64
                      " 400)\n",
              r.requests, o.requests, r.checks, t.requests, t.ok, t.not_found, t.bad_request);
      rc = 1;
    }
  }
  if (ex_httpd_stop(h) != 0) {
    rc = 1;
  }
  h = NULL;
  if (ex_env_fini(&e) != 0) {
    rc = 1;
  }
  (void)h;
  printf("inc-httpd: %s\n", rc == 0 ? "ok" : "FAILED");
  return rc;
}
