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
  INC__SOCK_DGRAM,     /* get only: a UDP socket */
};
/* The connection of descriptor fd, or NULL (free, closing, out of range). */
struct inc_conn *inc__sock_conn(struct inc_api *api, int fd);
int inc__sock_fd(const struct inc_conn *c);
int inc__sock_max_conns(const struct inc_api *api);
int inc__sock_get(const struct inc_conn *c, enum inc__sock_attr a);
void inc__sock_set(struct inc_conn *c, enum inc__sock_attr a, int v);

/* conn_udp.c: UDP sockets (negative errno returns) */
struct iovec;
int inc__udp_new(struct inc_api *api, int family, struct inc_conn **out);
int inc__udp_bind(struct inc_conn *c, const struct inc_addr *local, uint16_t port);
int inc__udp_connect(struct inc_conn *c, const struct inc_addr *remote, uint16_t port);
/* dst NULL: the connected peer. */
ssize_t inc__udp_sendv(struct inc_conn *c, const struct iovec *iov, int iovcnt, const struct inc_addr *dst,
                       uint16_t port);
ssize_t inc__udp_recvv(struct inc_conn *c, const struct iovec *iov, int iovcnt, unsigned flags, int timeout_ms,
                       struct inc_addr *src, uint16_t *sport, int *truncated);
void inc__udp_close(struct inc_conn *c);
/* Datagrams dropped because the socket's buffer (SO_RCVBUF) was full. */
uint64_t inc__udp_dropped(const struct inc_conn *c);

#ifdef __cplusplus
}
#endif

#endif /* INC_SOCK_PRIV_H */
