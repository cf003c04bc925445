/*
 * The load client on the sockets-style API (inception/socket.h), blocking
 * calls from application threads, one connection per thread:
 *   HTTP  keep-alive GET /bytes/N requests (N from the size list in turn),
 *         the last one of each connection with Connection: close (the
 *         server must then end the stream); every status line, header and
 *         body byte is checked (the body against ex_body_fill()). With
 *         checks, first: GET / (200), a missing path (404), a HEAD, a
 *         pipelined pair, and a malformed request on its own connection
 *         (400, then the server closes).
 *   echo  bytes of stream <connection id> sent in 16 KiB rounds, each
 *         round's echo read back and compared; then a write shutdown and
 *         the server's end of stream.
 * Connections alternate over the server addresses given (IPv4 / IPv6).
 *
 * Thread: ex_client_run() on any application thread (not a worker); it
 * starts and joins its own threads.
 */
#ifndef INC_EX_CLIENT_H
#define INC_EX_CLIENT_H

#include <stdint.h>

#include "inception/addr.h"
#include "inception/conn.h"

struct ex_client_cfg {
  const char *prog;
  struct inc_api *api;
  struct inc_addr servers[2];
  unsigned n_servers;
  uint16_t port;
  unsigned conns;
  unsigned requests;       /* HTTP: in all, spread over the connections */
  const uint64_t *sizes;   /* HTTP: body sizes */
  unsigned n_sizes;
  int checks;              /* HTTP: the fixed checks first */
  int echo;
  uint64_t echo_bytes;     /* echo: per connection */
  int quiet;
};

struct ex_client_result {
  uint64_t requests;   /* verified responses (HTTP) or echo rounds */
  uint64_t bytes;      /* verified body / echoed bytes */
  uint64_t checks;     /* fixed checks passed */
  uint64_t failures;   /* connections that failed (each printed) */
  double seconds;
};

/** Runs the load. Returns: 0 if every byte was verified, -1 otherwise. */
int ex_client_run(const struct ex_client_cfg *cfg, struct ex_client_result *r);

#endif
