/*
 * The load client on the sockets-style API (see ex_client.h).
 */
#define _GNU_SOURCE
#include "ex_client.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "ex_common.h"
#include "inception/socket.h"

#define RBUF 65536
#define ECHO_ROUND 16384

struct cthread {
  const struct ex_client_cfg *cfg;
  pthread_t tid;
  unsigned idx;
  unsigned requests;
  uint64_t done, bytes, checks;
  int failed;
  /* the connection and its read buffer */
  int fd;
  uint8_t buf[RBUF + 1]; /* NUL after the bytes read: header parsing uses string functions */
  size_t off, len;
};

static void fail(struct cthread *t, const char *fmt, ...)
{
  va_list ap;
  char msg[512];
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  if (!t->failed) {
    fprintf(stderr, "%s: connection %u: %s\n", t->cfg->prog, t->idx, msg);
  }
  t->failed = 1;
}

static int open_conn(struct cthread *t, unsigned which)
{
  const struct ex_client_cfg *cfg = t->cfg;
  const struct inc_addr *a = &cfg->servers[which % cfg->n_servers];
  struct sockaddr_storage ss;
  size_t sl = sizeof(ss);
  struct timeval tv = {30, 0};
  char text[INC_ADDR_STRLEN];
  inc_addr_to_sockaddr(a, cfg->port, (struct sockaddr *)&ss, &sl);
  inc_addr_format(a, text, sizeof(text));
  t->fd = inc_socket(cfg->api, a->family == INC_AF_INET ? AF_INET : AF_INET6, SOCK_STREAM, 0);
  if (t->fd < 0) {
    fail(t, "socket: %s", strerror(errno));
    return -1;
  }
  /* a lost server shows as an error, not a hang */
  inc_setsockopt(cfg->api, t->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  inc_setsockopt(cfg->api, t->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if (inc_connect(cfg->api, t->fd, (struct sockaddr *)&ss, (socklen_t)sl) != 0) {
    fail(t, "connect to [%s]:%u: %s", text, cfg->port, strerror(errno));
    inc_close(cfg->api, t->fd);
    t->fd = -1;
    return -1;
  }
  t->off = t->len = 0;
  return 0;
}

static void close_conn(struct cthread *t)
{
  if (t->fd >= 0) {
    inc_close(t->cfg->api, t->fd);
    t->fd = -1;
  }
}

static int send_all(struct cthread *t, const void *p, size_t n)
{
  size_t done = 0;
  while (done < n) {
    ssize_t w = inc_send(t->cfg->api, t->fd, (const uint8_t *)p + done, n - done, 0);
    if (w <= 0) {
      fail(t, "send: %s", w < 0 ? strerror(errno) : "returned 0");
      return -1;
    }
    done += (size_t)w;
  }
  return 0;
}

/* More bytes into the read buffer. Returns bytes read, 0 end of stream, -1. */
static ssize_t fill(struct cthread *t)
{
  ssize_t r;
  if (t->off > 0) {
    memmove(t->buf, t->buf + t->off, t->len - t->off);
    t->len -= t->off;
    t->off = 0;
  }
  if (t->len == RBUF) {
    fail(t, "response header over %u bytes", RBUF);
    return -1;
  }
  r = inc_recv(t->cfg->api, t->fd, t->buf + t->len, RBUF - t->len, 0);
  if (r < 0) {
    fail(t, "recv: %s", strerror(errno));
    return -1;
  }
  t->len += (size_t)r;
  t->buf[t->len] = '\0';
  return r;
}

struct resp {
  int status;
  uint64_t clen;
  int has_clen, close;
};

/* Reads a response header. Returns 0, -1 (failed, printed), 1 (end of
 * stream before any byte). */
static int read_head(struct cthread *t, struct resp *r)
{
  char *e, *p, *line_end;
  memset(r, 0, sizeof(*r));
  for (;;) {
    e = t->len > t->off ? memmem(t->buf + t->off, t->len - t->off, "\r\n\r\n", 4) : NULL;
    if (e != NULL) {
      break;
    }
    ssize_t n = fill(t);
    if (n < 0) {
      return -1;
    }
    if (n == 0) {
      if (t->len == t->off) {
        return 1;
      }
      fail(t, "end of stream inside a response header");
      return -1;
    }
  }
  p = (char *)t->buf + t->off;
  if (sscanf(p, "HTTP/1.1 %3d ", &r->status) != 1) {
    fail(t, "bad status line: %.40s", p);
    return -1;
  }
  line_end = memmem(p, (size_t)(e + 2 - p), "\r\n", 2);
  for (p = line_end + 2; p < e + 2; p = line_end + 2) {
    line_end = memmem(p, (size_t)(e + 4 - p), "\r\n", 2);
    if (strncasecmp(p, "Content-Length:", 15) == 0) {
      r->clen = strtoull(p + 15, NULL, 10);
      r->has_clen = 1;
    } else if (strncasecmp(p, "Connection:", 11) == 0) {
      r->close = memmem(p + 11, (size_t)(line_end - p - 11), "close", 5) != NULL;
    }
  }
  t->off = (size_t)(e + 4 - (char *)t->buf);
  if (!r->has_clen) {
    fail(t, "response %d without Content-Length", r->status);
    return -1;
  }
  return 0;
}

/* Reads a body of clen bytes; checks it against the stream when check (or
 * copies up to cap bytes into out). */
static int read_body(struct cthread *t, uint64_t clen, int check, char *out, size_t cap)
{
  uint64_t got = 0;
  while (got < clen) {
    size_t avail = t->len - t->off, n;
    if (avail == 0) {
      ssize_t r = fill(t);
      if (r < 0) {
        return -1;
      }
      if (r == 0) {
        fail(t, "end of stream after %" PRIu64 " of %" PRIu64 " body bytes", got, clen);
        return -1;
      }
      continue;
    }
    n = avail < clen - got ? avail : (size_t)(clen - got);
    if (check) {
      size_t bad = ex_body_check(0, got, t->buf + t->off, n);
      if (bad != n) {
        fail(t, "body byte %" PRIu64 " of %" PRIu64 " differs (0x%02x)", got + bad, clen, t->buf[t->off + bad]);
        return -1;
      }
    } else if (out != NULL && got < cap) {
      memcpy(out + got, t->buf + t->off, n < cap - got ? n : (size_t)(cap - got));
    }
    got += n;
    t->off += n;
  }
  if (out != NULL && cap > 0) {
    out[clen < cap ? clen : cap - 1] = '\0';
  }
  return 0;
}

/* Expects the server to end the stream now. */
static int expect_eof(struct cthread *t)
{
  ssize_t r;
  if (t->len > t->off) {
    fail(t, "%zu unexpected bytes after the last response", t->len - t->off);
    return -1;
  }
  r = fill(t);
  if (r != 0) {
    if (r > 0) {
      fail(t, "data after Connection: close");
    }
    return -1;
  }
  return 0;
}

static int get(struct cthread *t, const char *method, const char *path, int close, struct resp *r, int check,
               char *out, size_t cap)
{
  char req[256];
  int n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: inception\r\nUser-Agent: inc-client\r\n%s\r\n", method,
                   path, close ? "Connection: close\r\n" : "");
  if (send_all(t, req, (size_t)n) != 0 || read_head(t, r) != 0) {
    if (!t->failed) {
      fail(t, "%s %s: the server closed without a response", method, path);
    }
    return -1;
  }
  if (r->close && !close) {
    /* a request that closes is checked by the end of stream that follows
     * (RFC 9112 9.6 lets the server omit "Connection: close" then) */
    fail(t, "%s %s: Connection: close on a keep-alive request", method, path);
    return -1;
  }
  return read_body(t, strcmp(method, "HEAD") == 0 ? 0 : r->clen, check, out, cap);
}

static int http_checks(struct cthread *t)
{
  struct resp r;
  char body[512];
  const char *pipelined = "GET /bytes/100 HTTP/1.1\r\nHost: x\r\n\r\nGET /bytes/33 HTTP/1.1\r\nHost: x\r\n\r\n";
  if (open_conn(t, 0) != 0) {
    return -1;
  }
  if (get(t, "GET", "/", 0, &r, 0, body, sizeof(body)) != 0) {
    return -1;
  }
  if (r.status != 200 || strstr(body, "Inception") == NULL) {
    fail(t, "GET / gave %d '%.40s'", r.status, body);
    return -1;
  }
  t->checks++;
  if (get(t, "GET", "/no/such/page", 0, &r, 0, body, sizeof(body)) != 0) {
    return -1;
  }
  if (r.status != 404) {
    fail(t, "GET /no/such/page gave %d, not 404", r.status);
    return -1;
  }
  t->checks++;
  if (get(t, "HEAD", "/bytes/5000", 0, &r, 0, NULL, 0) != 0) {
    return -1;
  }
  if (r.status != 200 || r.clen != 5000) {
    fail(t, "HEAD /bytes/5000 gave %d with Content-Length %" PRIu64, r.status, r.clen);
    return -1;
  }
  t->checks++;
  /* two requests in one send: two responses in order */
  if (send_all(t, pipelined, strlen(pipelined)) != 0 || read_head(t, &r) != 0 || r.status != 200 || r.clen != 100 ||
      read_body(t, 100, 1, NULL, 0) != 0 || read_head(t, &r) != 0 || r.status != 200 || r.clen != 33 ||
      read_body(t, 33, 1, NULL, 0) != 0) {
    fail(t, "pipelined requests: wrong responses");
    return -1;
  }
  t->checks++;
  close_conn(t);
  /* a malformed request: 400 and the server closes */
  if (open_conn(t, 1) != 0) {
    return -1;
  }
  if (send_all(t, "THIS IS NOT HTTP\r\n\r\n", 20) != 0 || read_head(t, &r) != 0) {
    return -1;
  }
  if (r.status != 400 || !r.close || read_body(t, r.clen, 0, NULL, 0) != 0 || expect_eof(t) != 0) {
    fail(t, "a malformed request gave %d (close %d), not 400 and the end of the stream", r.status, r.close);
    return -1;
  }
  t->checks++;
  close_conn(t);
  return 0;
}

static void *http_thread(void *arg)
{
  struct cthread *t = arg;
  const struct ex_client_cfg *cfg = t->cfg;
  unsigned i;
  ex_block_signals(1);
  if (cfg->checks && t->idx == 0 && http_checks(t) != 0) {
    inc_api_thread_detach(cfg->api);
    return NULL;
  }
  if (t->requests > 0 && open_conn(t, t->idx) == 0) {
    for (i = 0; i < t->requests; i++) {
      struct resp r;
      char path[64];
      uint64_t n = cfg->sizes[(t->idx + i) % cfg->n_sizes];
      int last = i + 1 == t->requests;
      snprintf(path, sizeof(path), "/bytes/%" PRIu64, n);
      if (get(t, "GET", path, last, &r, 1, NULL, 0) != 0) {
        break;
      }
      if (r.status != 200 || r.clen != n) {
        fail(t, "GET %s gave %d with %" PRIu64 " bytes", path, r.status, r.clen);
        break;
      }
      if (last && cfg->checks && !r.close) { /* inc-httpd says so (ex_httpd.h) */
        fail(t, "GET %s with Connection: close: the response does not say close", path);
        break;
      }
      t->done++;
      t->bytes += n;
      if (last && expect_eof(t) != 0) {
        fail(t, "the server did not close after Connection: close");
      }
    }
  }
  close_conn(t);
  inc_api_thread_detach(cfg->api);
  return NULL;
}

static void *echo_thread(void *arg)
{
  struct cthread *t = arg;
  const struct ex_client_cfg *cfg = t->cfg;
  static _Thread_local uint8_t out[ECHO_ROUND];
  uint64_t off = 0;
  uint32_t id = t->idx + 1;
  ex_block_signals(1);
  if (open_conn(t, t->idx) != 0) {
    inc_api_thread_detach(cfg->api);
    return NULL;
  }
  while (off < cfg->echo_bytes) {
    size_t n = cfg->echo_bytes - off < ECHO_ROUND ? (size_t)(cfg->echo_bytes - off) : ECHO_ROUND, got = 0;
    ex_body_fill(id, off, out, n);
    if (send_all(t, out, n) != 0) {
      break;
    }
    while (got < n) {
      ssize_t r = inc_recv(cfg->api, t->fd, t->buf, n - got, 0);
      size_t bad;
      if (r <= 0) {
        fail(t, "echo: %s after %" PRIu64 " bytes", r == 0 ? "end of stream" : strerror(errno), off + got);
        break;
      }
      bad = ex_body_check(id, off + got, t->buf, (size_t)r);
      if (bad != (size_t)r) {
        fail(t, "echo: byte %" PRIu64 " differs", off + got + bad);
        break;
      }
      got += (size_t)r;
    }
    if (t->failed) {
      break;
    }
    off += n;
    t->done++;
    t->bytes += n;
  }
  if (!t->failed) {
    uint8_t b;
    if (inc_shutdown(cfg->api, t->fd, SHUT_WR) != 0) {
      fail(t, "shutdown: %s", strerror(errno));
    } else if (inc_recv(cfg->api, t->fd, &b, 1, 0) != 0) {
      fail(t, "echo: no end of stream after our shutdown");
    }
  }
  close_conn(t);
  inc_api_thread_detach(cfg->api);
  return NULL;
}

int ex_client_run(const struct ex_client_cfg *cfg, struct ex_client_result *res)
{
  struct cthread *t = calloc(cfg->conns, sizeof(*t));
  unsigned i, started = 0;
  double t0;
  memset(res, 0, sizeof(*res));
  if (t == NULL) {
    fprintf(stderr, "%s: no memory\n", cfg->prog);
    return -1;
  }
  t0 = ex_now();
  for (i = 0; i < cfg->conns; i++) {
    t[i].cfg = cfg;
    t[i].idx = i;
    t[i].fd = -1;
    t[i].requests = cfg->requests / cfg->conns + (i < cfg->requests % cfg->conns ? 1 : 0);
    if (pthread_create(&t[i].tid, NULL, cfg->echo ? echo_thread : http_thread, &t[i]) != 0) {
      fprintf(stderr, "%s: cannot start thread %u\n", cfg->prog, i);
      res->failures++;
      break;
    }
    started++;
  }
  for (i = 0; i < started; i++) {
    pthread_join(t[i].tid, NULL);
    res->requests += t[i].done;
    res->bytes += t[i].bytes;
    res->checks += t[i].checks;
    res->failures += t[i].failed ? 1 : 0;
  }
  res->seconds = ex_now() - t0;
  free(t);
  return res->failures == 0 && started == cfg->conns ? 0 : -1;
}
