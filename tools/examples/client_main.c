/*
 * inc-client: a load client on the sockets-style API (ex_client.c): HTTP
 * keep-alive GET /bytes/N requests (or echo rounds with --proto echo),
 * every byte verified, requests/s reported.
 *
 * Default: over the software RSS wire against a built-in server stack in
 * this process (inc-httpd's server, or inc-echo's raw-API server).
 * --tap IF --server ADDR: against a server on the tap's other side (e.g.
 * any HTTP server that serves /bytes/N as the stream of ex_common.h).
 *
 * Exit status: 0 every byte verified; 1 a failure; 2 bad usage or set-up.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "ex_client.h"
#include "ex_common.h"
#include "ex_echo.h"
#include "ex_httpd.h"

static const struct ex_prog k_prog = {
    .name = "inc-client",
    .summary = "A load client on Inception's sockets-style API: keep-alive HTTP GET /bytes/N\n"
               "requests (or, with --proto echo, echo rounds of 16 KiB), from one thread per\n"
               "connection, every byte verified, requests/s reported. By default it runs over\n"
               "the software RSS wire against a built-in server (inc-httpd's or inc-echo's) and\n"
               "also runs inc-httpd's fixed checks; with --tap IF --server ADDR it loads a\n"
               "server on the tap's other side.",
    .extra = "  --server ADDR      tap mode: the server's IPv4 or IPv6 address\n"
             "  --proto P          http (default) or echo\n"
             "  --requests N       HTTP requests in all (default 2000)\n"
             "  --conns C          connections at once, one thread each (default 8)\n"
             "  --sizes LIST       HTTP body sizes asked for in turn (default 0,1,137,1460,4096,65536,300000)\n"
             "  --bytes N          echo: bytes per connection (default 1048576)\n",
    .accept = EX_OPT_REQUESTS | EX_OPT_CONNS | EX_OPT_BYTES | EX_OPT_SIZES | EX_OPT_PROTO | EX_OPT_SERVER,
    .default_port = 80, /* 7 with --proto echo */
    .default_requests = 2000,
    .default_conns = 8,
    .default_bytes = 1u << 20,
};

int main(int argc, char **argv)
{
  struct ex_opts o;
  struct ex_env e;
  struct inc_stack_callbacks cb;
  struct ex_echo *echo = NULL;
  struct ex_httpd *h = NULL;
  struct ex_client_cfg cc = {0};
  struct ex_client_result r;
  int rc = 0;

  if (ex_parse(argc, argv, &k_prog, &o) != 0) {
    return 2;
  }
  if (o.proto_echo && !o.port_given) {
    o.port = 7; /* the echo service's port */
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  ex_signals();
  if (ex_env_init(&e, &o) != 0) {
    return 2;
  }
  ex_block_signals(0);
  cc.prog = o.prog;
  cc.port = o.port;
  cc.conns = o.conns;
  cc.requests = o.requests;
  cc.sizes = o.sizes;
  cc.n_sizes = o.n_sizes;
  cc.echo = o.proto_echo;
  cc.echo_bytes = o.bytes;
  cc.quiet = o.quiet;
  if (o.tap == NULL) {
    /* the built-in server */
    if (o.proto_echo) {
      echo = ex_echo_new(o.workers, o.port, &cb);
      if (echo == NULL || ex_stack_start(&e, EX_SERVER, &cb, 0) != 0 || ex_echo_listen_errors(echo) != 0) {
        ex_env_fini(&e);
        return 2;
      }
    } else if (ex_stack_start(&e, EX_SERVER, NULL, 1) != 0 ||
               ex_httpd_start(&h, e.api[EX_SERVER], o.port, 1) != 0) {
      ex_env_fini(&e);
      return 2;
    }
    cc.servers[0] = ex_wire_server_addr(INC_AF_INET);
    cc.servers[1] = ex_wire_server_addr(INC_AF_INET6);
    cc.n_servers = 2;
    cc.checks = !o.proto_echo;
  } else {
    cc.servers[0] = o.server;
    cc.n_servers = 1;
  }
  if (ex_stack_start(&e, EX_CLIENT, NULL, 1) != 0) {
    if (h != NULL) {
      ex_httpd_stop(h);
    }
    ex_env_fini(&e);
    return 2;
  }
  cc.api = e.api[EX_CLIENT];
  if (ex_client_run(&cc, &r) != 0) {
    rc = 1;
  }
  if (o.proto_echo) {
    printf("inc-client: %u echo connections, %" PRIu64 " rounds, %" PRIu64 " bytes echoed and verified in %.2f s: "
           "%.0f rounds/s, %.1f Mbit/s\n",
           o.conns, r.requests, r.bytes, r.seconds, r.seconds > 0 ? (double)r.requests / r.seconds : 0.0,
           r.seconds > 0 ? (double)r.bytes * 8 / r.seconds / 1e6 : 0.0);
    if (r.bytes != (uint64_t)o.conns * o.bytes) {
      rc = 1;
    }
  } else {
    printf("inc-client: %" PRIu64 " requests verified (%" PRIu64 " body bytes) on %u keep-alive connections in "
           "%.2f s: %.0f requests/s%s\n",
           r.requests, r.bytes, o.conns, r.seconds, r.seconds > 0 ? (double)r.requests / r.seconds : 0.0,
           cc.checks ? (r.checks == 5 ? "; 5 of 5 checks passed" : "; checks FAILED") : "");
    if (r.requests != o.requests || (cc.checks && r.checks != 5)) {
      rc = 1;
    }
  }
  if (h != NULL && ex_httpd_stop(h) != 0) {
    rc = 1;
  }
  if (ex_env_fini(&e) != 0) {
    rc = 1;
  }
  ex_echo_free(echo);
  printf("inc-client: %s\n", rc == 0 ? "ok" : "FAILED");
  return rc;
}
