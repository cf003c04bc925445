#define _GNU_SOURCE /* accept4 */
/*
 * linux_peer: Linux's own TCP as the peer of Inception in tests (run in the
 * test's network namespace). Streams use xfer's pattern (xfer_pattern.h):
 * a 4-byte id, then payload bytes that depend on the id and the offset.
 *
 *   linux_peer server <port> <conns> <bytes> <timeout_s>
 *   linux_peer server6 <port> <conns> <bytes> <timeout_s>
 *       accepts <conns> connections (server: IPv4; server6: IPv6 only) and
 *       verifies every byte of each stream (id, payload, length); closes
 *       each after the peer's FIN.
 *   linux_peer client <ip> <port> <conns> <bytes> <id_base> <idle_ms> <timeout_s> [<source ip>]
 *       opens <conns> connections (to an IPv4 or IPv6 address, from source
 *       ip if given), waits idle_ms once all are up, sends one stream on
 *       each, half-closes, and waits for the peer to close.
 * Exit status 0 only if every connection completed with every byte right.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "xfer_pattern.h"

struct conn {
  int fd;
  uint32_t id;
  uint64_t done;   /* bytes received (server) or sent (client), id included */
  uint8_t idb[4];
  int state;       /* client: 0 connecting, 1 up, 2 sent, 3 closed; server: 0 open, 3 closed */
};

static uint8_t table[XFER_PATTERN_LEN];

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int die(const char *what)
{
  fprintf(stderr, "linux_peer: %s: %s\n", what, strerror(errno));
  return 2;
}

static int server(int port, int n, uint64_t bytes, double timeout, int v6)
{
  int lfd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), ep = epoll_create1(0), one = 1;
  struct sockaddr_storage ss;
  socklen_t alen;
  struct conn *c = calloc((size_t)n, sizeof(*c));
  int accepted = 0, complete = 0, bad = 0;
  double deadline = now_s() + timeout;
  struct epoll_event ev, evs[64];
  static uint8_t buf[65536];

  if (lfd < 0 || ep < 0 || c == NULL) {
    return die("setup");
  }
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  memset(&ss, 0, sizeof(ss));
  if (v6) {
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)port);
    alen = sizeof(*a6);
  } else {
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    alen = sizeof(*a4);
  }
  if (bind(lfd, (struct sockaddr *)&ss, alen) != 0 || listen(lfd, 4096) != 0) {
    return die("bind/listen");
  }
  ev.events = EPOLLIN;
  ev.data.u64 = ~0ull;
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  printf("ready\n");
  fflush(stdout);
  while (complete + bad < n && now_s() < deadline) {
    int k = epoll_wait(ep, evs, 64, 100), i;
    for (i = 0; i < k; i++) {
      if (evs[i].data.u64 == ~0ull) {
        int fd;
        while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          if (accepted == n) {
            close(fd);
            bad++;
            continue;
          }
          c[accepted].fd = fd;
          ev.events = EPOLLIN;
          ev.data.u64 = (uint64_t)accepted;
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
          accepted++;
        }
        continue;
      }
      {
        struct conn *x = &c[evs[i].data.u64];
        for (;;) {
          ssize_t r = read(x->fd, buf, sizeof(buf));
          ssize_t j;
          if (r == 0) { /* FIN: the stream must be whole */
            if (x->done == 4 + bytes) {
              complete++;
            } else {
              fprintf(stderr, "linux_peer: stream %u ended at %llu of %llu bytes\n", x->id,
                      (unsigned long long)x->done, (unsigned long long)(4 + bytes));
              bad++;
            }
            close(x->fd);
            x->state = 3;
            break;
          }
          if (r < 0) {
            if (errno != EAGAIN) {
              bad++;
              close(x->fd);
              x->state = 3;
            }
            break;
          }
          for (j = 0; j < r; j++, x->done++) {
            if (x->done < 4) {
              x->idb[x->done] = buf[j];
              if (x->done == 3) {
                memcpy(&x->id, x->idb, 4);
              }
            } else if (x->done - 4 >= bytes || buf[j] != table[xfer_pattern_pos(x->id, x->done - 4)]) {
              fprintf(stderr, "linux_peer: stream %u: wrong byte at %llu\n", x->id, (unsigned long long)x->done);
              bad++;
              close(x->fd);
              x->state = 3;
              break;
            }
          }
          if (x->state == 3) {
            break;
          }
        }
      }
    }
  }
  printf("server: %d accepted, %d complete, %d bad\n", accepted, complete, bad);
  free(c);
  close(lfd);
  close(ep);
  return complete == n && bad == 0 ? 0 : 1;
}

/* Binds fd to source address src (port chosen by the kernel). */
static int bind_source(int fd, int family, const char *src)
{
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof(ss));
  if (family == AF_INET6) {
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    a6->sin6_family = AF_INET6;
    if (inet_pton(AF_INET6, src, &a6->sin6_addr) != 1) {
      return -1;
    }
    return bind(fd, (struct sockaddr *)a6, sizeof(*a6));
  }
  {
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    a4->sin_family = AF_INET;
    if (inet_pton(AF_INET, src, &a4->sin_addr) != 1) {
      return -1;
    }
    return bind(fd, (struct sockaddr *)a4, sizeof(*a4));
  }
}

static int client(const char *ip, int port, int n, uint64_t bytes, uint32_t id_base, int idle_ms, double timeout,
                  const char *src_ip)
{
  int ep = epoll_create1(0), i, up = 0, closed = 0, bad = 0, armed = 0;
  struct conn *c = calloc((size_t)n, sizeof(*c));
  struct sockaddr_storage ss;
  socklen_t alen;
  int family = strchr(ip, ':') != NULL ? AF_INET6 : AF_INET;
  double deadline = now_s() + timeout, idle_until = 0;
  struct epoll_event ev, evs[64];
  static uint8_t buf[65536];

  if (ep < 0 || c == NULL) {
    return die("setup");
  }
  memset(&ss, 0, sizeof(ss));
  if (family == AF_INET6) {
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)port);
    alen = sizeof(*a6);
    if (inet_pton(AF_INET6, ip, &a6->sin6_addr) != 1) {
      free(c);
      close(ep);
      return die("bad IPv6 address");
    }
  } else {
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    alen = sizeof(*a4);
    if (inet_pton(AF_INET, ip, &a4->sin_addr) != 1) {
      free(c);
      close(ep);
      return die("bad IPv4 address");
    }
  }
  for (i = 0; i < n; i++) {
    c[i].fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
    c[i].id = id_base + (uint32_t)i;
    memcpy(c[i].idb, &c[i].id, 4);
    if (c[i].fd >= 0 && src_ip != NULL && bind_source(c[i].fd, family, src_ip) != 0) {
      free(c);
      close(ep);
      return die("bind to the source address");
    }
    if (c[i].fd < 0 || (connect(c[i].fd, (struct sockaddr *)&ss, alen) != 0 && errno != EINPROGRESS)) {
      return die("connect");
    }
    ev.events = EPOLLOUT | EPOLLIN;
    ev.data.u64 = (uint64_t)i;
    epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &ev);
  }
  while (closed + bad < n && now_s() < deadline) {
    int k = epoll_wait(ep, evs, 64, 20);
    if (up + bad == n && idle_until == 0) {
      idle_until = now_s() + idle_ms / 1000.0; /* every connection is up: stay idle */
    }
    if (!armed && idle_until != 0 && now_s() >= idle_until) {
      armed = 1; /* idle over: write on every connection */
      for (i = 0; i < n; i++) {
        if (c[i].state == 1) {
          ev.events = EPOLLOUT | EPOLLIN;
          ev.data.u64 = (uint64_t)i;
          epoll_ctl(ep, EPOLL_CTL_MOD, c[i].fd, &ev);
        }
      }
    }
    for (i = 0; i < k; i++) {
      struct conn *x = &c[evs[i].data.u64];
      if (x->state == 0 && (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        int err = 0;
        socklen_t l = sizeof(err);
        getsockopt(x->fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (err != 0) {
          fprintf(stderr, "linux_peer: connect %u: %s\n", x->id, strerror(err));
          bad++;
          x->state = 3;
          close(x->fd);
          continue;
        }
        x->state = 1;
        up++;
        if (!armed) {
          ev.events = EPOLLIN; /* nothing to write until the idle time is over */
          ev.data.u64 = evs[i].data.u64;
          epoll_ctl(ep, EPOLL_CTL_MOD, x->fd, &ev);
        }
      }
      if (x->state == 1 && armed) {
        while (x->done < 4 + bytes) {
          const void *src;
          size_t len;
          ssize_t w;
          if (x->done < 4) {
            src = x->idb + x->done;
            len = 4 - x->done;
          } else {
            uint32_t pos = xfer_pattern_pos(x->id, x->done - 4);
            uint64_t left = 4 + bytes - x->done;
            src = table + pos;
            len = XFER_PATTERN_LEN - pos;
            if (len > left) {
              len = left;
            }
          }
          w = write(x->fd, src, len);
          if (w <= 0) {
            break;
          }
          x->done += (uint64_t)w;
        }
        if (x->done == 4 + bytes) {
          shutdown(x->fd, SHUT_WR);
          x->state = 2;
          ev.events = EPOLLIN;
          ev.data.u64 = evs[i].data.u64;
          epoll_ctl(ep, EPOLL_CTL_MOD, x->fd, &ev);
        }
      }
      if (x->state == 2 && (evs[i].events & (EPOLLIN | EPOLLHUP))) {
        ssize_t r = read(x->fd, buf, sizeof(buf));
        if (r == 0 || (r < 0 && errno != EAGAIN)) {
          close(x->fd);
          x->state = 3;
          closed++;
        }
      }
    }
  }
  printf("client: %d up, %d closed, %d bad\n", up, closed, bad);
  for (i = 0; i < n; i++) {
    if (c[i].state != 3) {
      close(c[i].fd);
    }
  }
  free(c);
  close(ep);
  return closed == n && bad == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
  setvbuf(stdout, NULL, _IOLBF, 0);
  xfer_pattern_fill(table);
  if (argc == 6 && (strcmp(argv[1], "server") == 0 || strcmp(argv[1], "server6") == 0)) {
    return server(atoi(argv[2]), atoi(argv[3]), strtoull(argv[4], NULL, 10), atof(argv[5]),
                  strcmp(argv[1], "server6") == 0);
  }
  if ((argc == 9 || argc == 10) && strcmp(argv[1], "client") == 0) {
    return client(argv[2], atoi(argv[3]), atoi(argv[4]), strtoull(argv[5], NULL, 10),
                  (uint32_t)strtoul(argv[6], NULL, 0), atoi(argv[7]), atof(argv[8]), argc == 10 ? argv[9] : NULL);
  }
  fprintf(stderr, "usage: linux_peer server|server6 <port> <conns> <bytes> <timeout_s>\n"
                  "       linux_peer client <ip> <port> <conns> <bytes> <id_base> <idle_ms> <timeout_s> [<source ip>]\n");
  return 2;
}
