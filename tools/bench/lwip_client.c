/*
 * Client side of the "lwip" backend: lwIP's BSD sockets, blocking, with
 * TCP_NODELAY and send/receive timeouts, exactly as an application on stock
 * lwIP uses them. (No <sys/socket.h> here: see lwip_priv.h.)
 */
#include <errno.h>
#include <string.h>

#include "lwip/inet.h"
#include "lwip/sockets.h"
#include "lwip_priv.h"

static int sock_errno(void)
{
	/* lwIP reports a timeout as EWOULDBLOCK/EAGAIN. */
	return errno == EWOULDBLOCK || errno == EAGAIN ? -ETIMEDOUT : -errno;
}

int inc_bench_lwip_client_connect(uint16_t port, struct inc_bench_conn *conn)
{
	struct sockaddr_in sa;
	struct timeval tv = {.tv_sec = INC_BENCH_LWIP_IO_TIMEOUT_S};
	int one = 1;
	int s = lwip_socket(AF_INET, SOCK_STREAM, 0);

	if (s < 0)
		return -errno;
	memset(&sa, 0, sizeof sa);
	sa.sin_len = sizeof sa;
	sa.sin_family = AF_INET;
	sa.sin_port = lwip_htons(port);
	sa.sin_addr.s_addr = inet_addr(INC_BENCH_LWIP_SERVER_IP);
	if (lwip_setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0 ||
	    lwip_setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
	    lwip_setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0 ||
	    lwip_connect(s, (const struct sockaddr *)&sa, sizeof sa) < 0) {
		int rc = sock_errno();

		lwip_close(s);
		return rc;
	}
	conn->u.fd = s;
	return 0;
}

int inc_bench_lwip_client_send_all(struct inc_bench_conn *conn, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = lwip_send(conn->u.fd, p, len, 0);

		if (n < 0)
			return sock_errno();
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t inc_bench_lwip_client_recv(struct inc_bench_conn *conn, void *buf, size_t len)
{
	ssize_t n = lwip_recv(conn->u.fd, buf, len, 0);

	return n >= 0 ? n : sock_errno();
}

int inc_bench_lwip_client_shutdown_wr(struct inc_bench_conn *conn)
{
	return lwip_shutdown(conn->u.fd, SHUT_WR) == 0 ? 0 : sock_errno();
}

int inc_bench_lwip_client_close(struct inc_bench_conn *conn)
{
	int rc = lwip_close(conn->u.fd) == 0 ? 0 : sock_errno();

	conn->u.fd = -1;
	return rc;
}
