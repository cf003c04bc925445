/*
 * What the sockets layer's files share (private).
 */
#ifndef INC_SOCK_PRIV_H
#define INC_SOCK_PRIV_H

#include "inception/socket.h"

#ifdef __cplusplus
extern "C" {
#endif

/* inc_close() of an epoll descriptor. Returns 0 or -1 (errno). */
int inc__sock_epoll_close(struct inc_api *api, int epfd);

/* conn.c: what the sockets layer reads of a connection (sock.c does not
 * include lwIP: its byte-order macros clash with the C library's). */
enum inc__sock_attr {
  INC__SOCK_NONBLOCK,
  INC__SOCK_RCVTIMEO,  /* ms, -1: none */
  INC__SOCK_SNDTIMEO,
  INC__SOCK_LISTENING, /* get only */
  INC__SOCK_CONNECTED, /* get only */
};
/* The connection of descriptor fd, or NULL (free, closing, out of range). */
struct inc_conn *inc__sock_conn(struct inc_api *api, int fd);
int inc__sock_fd(const struct inc_conn *c);
int inc__sock_max_conns(const struct inc_api *api);
int inc__sock_get(const struct inc_conn *c, enum inc__sock_attr a);
void inc__sock_set(struct inc_conn *c, enum inc__sock_attr a, int v);

#ifdef __cplusplus
}
#endif

#endif /* INC_SOCK_PRIV_H */
