/*
 * The HTTP/1.1 service on the sockets-style API (inception/socket.h) with
 * inc_epoll_*: one application thread, non-blocking sockets, keep-alive and
 * pipelined requests.
 *
 *   GET|HEAD /          a short text page
 *   GET|HEAD /bytes/N   N bytes (0 <= N <= 2^30) of the deterministic stream
 *                       of ex_common.h (stream 0), text/plain
 *   anything else       404; other methods 405; malformed requests 400 and
 *                       the connection is closed (RFC 9112 sections 2-6: a
 *                       request line "METHOD SP /target SP HTTP/1.x", header
 *                       fields "name: value" without space before the colon,
 *                       Host required in HTTP/1.1, a valid Content-Length);
 *                       Transfer-Encoding 501; a header over 8 KiB 431.
 * Responses carry Content-Length and Connection: keep-alive or close
 * (HTTP/1.1 keeps the connection unless the request says close; HTTP/1.0
 * closes unless it says keep-alive). A request body (Content-Length) is
 * read and discarded.
 *
 * Thread: ex_httpd_start/stop on the control thread; the server runs on its
 * own thread; ex_httpd_totals() on any thread.
 */
#ifndef INC_EX_HTTPD_H
#define INC_EX_HTTPD_H

#include <stdint.h>

#include "inception/conn.h"

struct ex_httpd;

struct ex_httpd_totals {
  uint64_t accepted;    /* connections */
  uint64_t requests;    /* responses sent (all statuses) */
  uint64_t ok, not_found, bad_request, other; /* 200; 404; 400; 405/431/501 */
  uint64_t body_bytes;  /* body bytes sent */
  uint64_t errors;      /* connections that ended with a socket error */
};

/** Listens on port (IPv4 and IPv6) and starts the server thread.
 * Returns: 0, or -1 (message printed). */
int ex_httpd_start(struct ex_httpd **out, struct inc_api *api, uint16_t port, int quiet);
void ex_httpd_totals(struct ex_httpd *h, struct ex_httpd_totals *t);
/** Stops the thread, closes every socket, frees h. Returns: 0, or -1 if the
 * server thread met an API error (printed). */
int ex_httpd_stop(struct ex_httpd *h);

#endif
