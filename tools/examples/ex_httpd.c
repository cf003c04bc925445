/*
 * The HTTP/1.1 service on the sockets-style API (see ex_httpd.h).
 *
 * One thread, one epoll set: the listening socket (AF_INET6 bound to ::,
 * which also accepts IPv4) and every connection, non-blocking. A
 * connection alternates between reading one request and writing its
 * response; the body of /bytes/N is generated into the output buffer as
 * the send buffer drains, so a large body needs no large memory. EPOLLOUT
 * is asked for only while a response waits for send space.
 */
#define _GNU_SOURCE
#include "ex_httpd.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ex_common.h"
#include "inception/socket.h"

#define HDR_MAX 8192
#define OUT_MAX 65536
#define MAX_FDS 4096

struct hconn {
  int fd;
  unsigned events;      /* registered epoll events */
  char in[HDR_MAX];
  size_t in_len;
  uint64_t skip;        /* request body bytes still to discard */
  uint8_t out[OUT_MAX];
  size_t out_off, out_len;
  uint64_t body_off, body_left; /* the /bytes/N body still to generate */
  int close_after;      /* close once the response is out */
};

struct ex_httpd {
  struct inc_api *api;
  int lfd, ep;
  int quiet;
  pthread_t thread;
  atomic_int stop;      /* set by ex_httpd_stop(), read by the thread */
  int failed;           /* the thread met an API error (read after join) */
  struct hconn *conns[MAX_FDS];
  /* written by the server thread only; read by ex_httpd_totals() */
  _Atomic uint64_t accepted, requests, ok, not_found, bad_request, other, body_bytes, errors;
};

static void bump(_Atomic uint64_t *a, uint64_t n)
{
  /* single writer (the server thread): relaxed is enough for a counter */
  atomic_store_explicit(a, atomic_load_explicit(a, memory_order_relaxed) + n, memory_order_relaxed);
}

static void conn_close(struct ex_httpd *h, struct hconn *c)
{
  inc_epoll_ctl(h->api, h->ep, EPOLL_CTL_DEL, c->fd, NULL);
  inc_close(h->api, c->fd);
  h->conns[c->fd] = NULL;
  free(c);
}

static int set_events(struct ex_httpd *h, struct hconn *c, unsigned ev)
{
  struct epoll_event e;
  if (c->events == ev) {
    return 0;
  }
  memset(&e, 0, sizeof(e));
  e.events = ev;
  e.data.fd = c->fd;
  if (inc_epoll_ctl(h->api, h->ep, EPOLL_CTL_MOD, c->fd, &e) != 0) {
    return -1;
  }
  c->events = ev;
  return 0;
}

/* ---- responses ------------------------------------------------------------ */

static const char k_index[] =
    "Inception HTTP/1.1 example (inc-httpd)\n"
    "GET /bytes/N for N bytes of the deterministic stream:\n"
    "16-byte records, record k = printf(\"%015x\\n\", k)\n";

static void respond(struct ex_httpd *h, struct hconn *c, int status, const char *reason, const char *ctype,
                    const char *body, uint64_t gen_len, int head_only, const char *extra)
{
  char date[64];
  time_t now = time(NULL);
  struct tm tm;
  size_t blen = body != NULL ? strlen(body) : 0;
  uint64_t clen = body != NULL ? blen : gen_len;
  int n;
  gmtime_r(&now, &tm);
  strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm); /* RFC 9110 5.6.7 */
  n = snprintf((char *)c->out, OUT_MAX,
               "HTTP/1.1 %d %s\r\nServer: inc-httpd\r\nDate: %s\r\nContent-Type: %s\r\nContent-Length: %" PRIu64
               "\r\n%sConnection: %s\r\n\r\n",
               status, reason, date, ctype, clen, extra != NULL ? extra : "", c->close_after ? "close" : "keep-alive");
  c->out_off = 0;
  c->out_len = (size_t)n;
  c->body_off = 0;
  c->body_left = 0;
  if (!head_only) {
    if (body != NULL) {
      memcpy(c->out + c->out_len, body, blen); /* short bodies only */
      c->out_len += blen;
    } else {
      c->body_left = gen_len;
    }
    bump(&h->body_bytes, clen);
  }
  bump(&h->requests, 1);
  bump(status == 200 ? &h->ok : status == 404 ? &h->not_found : status == 400 ? &h->bad_request : &h->other, 1);
}

static void bad_request(struct ex_httpd *h, struct hconn *c, const char *why)
{
  char body[160];
  snprintf(body, sizeof(body), "bad request: %s\n", why);
  c->close_after = 1; /* RFC 9112 2.2: after a framing error the stream is not trusted */
  respond(h, c, 400, "Bad Request", "text/plain", body, 0, 0, NULL);
}

static int is_tchar(char ch)
{
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
         (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* Does the comma-separated list v (length n) hold token tok (any case)? */
static int has_token(const char *v, size_t n, const char *tok)
{
  size_t tl = strlen(tok), i = 0;
  while (i < n) {
    size_t s, e;
    while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) {
      i++;
    }
    s = i;
    while (i < n && v[i] != ',') {
      i++;
    }
    e = i;
    while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t')) {
      e--;
    }
    if (e - s == tl && strncasecmp(v + s, tok, tl) == 0) {
      return 1;
    }
  }
  return 0;
}

/* Parses the request at the start of c->in, whose header ends at hdr_len
 * (after the empty line), and queues the response. Returns the bytes the
 * header took. */
static size_t handle_request(struct ex_httpd *h, struct hconn *c, size_t hdr_len)
{
  char *p = c->in, *end = c->in + hdr_len, *line_end, *sp1, *sp2;
  char method[16], target[1024];
  int minor, keep, has_host = 0, conn_close = 0, conn_keep = 0, head;
  int64_t clen = -1;

  line_end = memmem(p, (size_t)(end - p), "\r\n", 2);
  sp1 = memchr(p, ' ', (size_t)(line_end - p));
  sp2 = sp1 != NULL ? memchr(sp1 + 1, ' ', (size_t)(line_end - sp1 - 1)) : NULL;
  if (sp1 == NULL || sp2 == NULL || sp1 == p || sp2 == sp1 + 1 || (size_t)(sp1 - p) >= sizeof(method) ||
      (size_t)(sp2 - sp1 - 1) >= sizeof(target)) {
    bad_request(h, c, "the request line is not METHOD SP TARGET SP HTTP-VERSION");
    return hdr_len;
  }
  memcpy(method, p, (size_t)(sp1 - p));
  method[sp1 - p] = '\0';
  memcpy(target, sp1 + 1, (size_t)(sp2 - sp1 - 1));
  target[sp2 - sp1 - 1] = '\0';
  for (char *m = method; *m; m++) {
    if (!is_tchar(*m)) {
      bad_request(h, c, "the method is not a token");
      return hdr_len;
    }
  }
  if (line_end - sp2 - 1 != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0 || (sp2[8] != '0' && sp2[8] != '1')) {
    bad_request(h, c, "the version is not HTTP/1.0 or HTTP/1.1");
    return hdr_len;
  }
  minor = sp2[8] - '0';
  if (target[0] != '/' || strpbrk(target, " \t") != NULL) {
    bad_request(h, c, "the target is not an absolute path");
    return hdr_len;
  }
  /* header fields */
  for (p = line_end + 2; p < end - 2; p = line_end + 2) {
    char *colon, *v, *ve;
    size_t nlen;
    line_end = memmem(p, (size_t)(end - p), "\r\n", 2);
    colon = memchr(p, ':', (size_t)(line_end - p));
    if (colon == NULL || colon == p) {
      bad_request(h, c, "a header field without a name and colon");
      return hdr_len;
    }
    nlen = (size_t)(colon - p);
    for (char *q = p; q < colon; q++) {
      if (!is_tchar(*q)) { /* RFC 9112 5.1: no whitespace before the colon */
        bad_request(h, c, "a header field name is not a token");
        return hdr_len;
      }
    }
    v = colon + 1;
    ve = line_end;
    while (v < ve && (*v == ' ' || *v == '\t')) {
      v++;
    }
    while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) {
      ve--;
    }
    for (char *q = v; q < ve; q++) {
      if (*q == '\0' || *q == '\r' || *q == '\n') {
        bad_request(h, c, "a control character in a header field value");
        return hdr_len;
      }
    }
    if (nlen == 4 && strncasecmp(p, "host", 4) == 0) {
      has_host++;
    } else if (nlen == 10 && strncasecmp(p, "connection", 10) == 0) {
      conn_close |= has_token(v, (size_t)(ve - v), "close");
      conn_keep |= has_token(v, (size_t)(ve - v), "keep-alive");
    } else if (nlen == 14 && strncasecmp(p, "content-length", 14) == 0) {
      int64_t x = 0;
      if (ve == v || ve - v > 12) {
        bad_request(h, c, "Content-Length is not a number");
        return hdr_len;
      }
      for (char *q = v; q < ve; q++) {
        if (*q < '0' || *q > '9') {
          bad_request(h, c, "Content-Length is not a number");
          return hdr_len;
        }
        x = x * 10 + (*q - '0');
      }
      if (clen >= 0 && clen != x) { /* RFC 9112 6.3 */
        bad_request(h, c, "two different Content-Length values");
        return hdr_len;
      }
      clen = x;
    } else if (nlen == 17 && strncasecmp(p, "transfer-encoding", 17) == 0) {
      c->close_after = 1;
      respond(h, c, 501, "Not Implemented", "text/plain", "Transfer-Encoding is not supported\n", 0, 0, NULL);
      return hdr_len;
    }
  }
  if (minor == 1 && has_host != 1) { /* RFC 9112 3.2 */
    bad_request(h, c, has_host == 0 ? "HTTP/1.1 without Host" : "more than one Host");
    return hdr_len;
  }
  keep = minor == 1 ? !conn_close : (conn_keep && !conn_close);
  c->close_after = !keep;
  if (clen > 0) {
    c->skip = (uint64_t)clen;
  }
  head = strcmp(method, "HEAD") == 0;
  if (!head && strcmp(method, "GET") != 0) {
    respond(h, c, 405, "Method Not Allowed", "text/plain", "only GET and HEAD\n", 0, 0, "Allow: GET, HEAD\r\n");
    return hdr_len;
  }
  {
    char *q = strchr(target, '?');
    if (q != NULL) {
      *q = '\0';
    }
  }
  if (strcmp(target, "/") == 0) {
    respond(h, c, 200, "OK", "text/plain", k_index, 0, head, NULL);
  } else if (strncmp(target, "/bytes/", 7) == 0 && target[7] >= '0' && target[7] <= '9' &&
             strspn(target + 7, "0123456789") == strlen(target + 7) && strlen(target + 7) <= 10 &&
             strtoull(target + 7, NULL, 10) <= (1ull << 30)) {
    respond(h, c, 200, "OK", "text/plain", NULL, strtoull(target + 7, NULL, 10), head, NULL);
  } else {
    respond(h, c, 404, "Not Found", "text/plain", "not found\n", 0, head, NULL);
  }
  return hdr_len;
}

/* ---- the connection's state machine ---------------------------------------- */

/* Sends what is pending. Returns 1 all sent, 0 blocked (EAGAIN), -1 error. */
static int flush(struct ex_httpd *h, struct hconn *c)
{
  for (;;) {
    ssize_t w;
    if (c->out_off == c->out_len) {
      size_t n;
      c->out_off = c->out_len = 0;
      if (c->body_left == 0) {
        return 1;
      }
      n = c->body_left < OUT_MAX ? (size_t)c->body_left : OUT_MAX;
      ex_body_fill(0, c->body_off, c->out, n);
      c->out_len = n;
      c->body_off += n;
      c->body_left -= n;
    } else if (c->body_left > 0 && c->out_len < OUT_MAX && c->out_off == 0) {
      /* the header: let the body's start share its segment */
      size_t n = OUT_MAX - c->out_len;
      if (n > c->body_left) {
        n = (size_t)c->body_left;
      }
      ex_body_fill(0, c->body_off, c->out + c->out_len, n);
      c->out_len += n;
      c->body_off += n;
      c->body_left -= n;
    }
    w = inc_send(h->api, c->fd, c->out + c->out_off, c->out_len - c->out_off, 0);
    if (w < 0) {
      return errno == EAGAIN ? 0 : -1;
    }
    c->out_off += (size_t)w;
  }
}

static void serve(struct ex_httpd *h, struct hconn *c)
{
  for (;;) {
    int f = flush(h, c);
    char *e;
    ssize_t r;
    if (f < 0) {
      bump(&h->errors, 1);
      conn_close(h, c);
      return;
    }
    if (f == 0) {
      if (set_events(h, c, EPOLLOUT) != 0) {
        conn_close(h, c);
      }
      return;
    }
    if (c->close_after) {
      conn_close(h, c); /* FIN after the response */
      return;
    }
    /* discard a request body */
    if (c->skip > 0 && c->in_len > 0) {
      size_t n = c->skip < c->in_len ? (size_t)c->skip : c->in_len;
      memmove(c->in, c->in + n, c->in_len - n);
      c->in_len -= n;
      c->skip -= n;
    }
    if (c->skip == 0 && c->in_len > 0) {
      size_t lead = 0, i;
      /* RFC 9112 2.2: empty lines before a request line are ignored */
      while (lead + 1 < c->in_len && c->in[lead] == '\r' && c->in[lead + 1] == '\n') {
        lead += 2;
      }
      if (lead > 0) {
        memmove(c->in, c->in + lead, c->in_len - lead);
        c->in_len -= lead;
        continue;
      }
      e = memmem(c->in, c->in_len, "\r\n\r\n", 4);
      /* lines end with CRLF: a bare LF in the head is malformed (RFC 9112
       * 2.2 lets a recipient refuse it), answered at once rather than
       * waiting for a CRLF that may never come */
      for (i = 0; i < (e != NULL ? (size_t)(e - c->in) : c->in_len); i++) {
        if (c->in[i] == '\n' && (i == 0 || c->in[i - 1] != '\r')) {
          break;
        }
      }
      if (i < (e != NULL ? (size_t)(e - c->in) : c->in_len)) {
        c->in_len = 0;
        bad_request(h, c, "a line ends with a bare LF, not CRLF");
        continue;
      }
      if (e != NULL) {
        size_t used = handle_request(h, c, (size_t)(e + 4 - c->in));
        memmove(c->in, c->in + used, c->in_len - used);
        c->in_len -= used;
        continue; /* send the response, then the next (pipelined) request */
      }
      if (c->in_len == HDR_MAX) {
        c->close_after = 1;
        respond(h, c, 431, "Request Header Fields Too Large", "text/plain", "header over 8 KiB\n", 0, 0, NULL);
        continue;
      }
    }
    r = inc_recv(h->api, c->fd, c->in + c->in_len, HDR_MAX - c->in_len, 0);
    if (r > 0) {
      c->in_len += (size_t)r;
      continue;
    }
    if (r < 0 && errno == EAGAIN) {
      if (set_events(h, c, EPOLLIN | EPOLLRDHUP) != 0) {
        conn_close(h, c);
      }
      return;
    }
    if (r < 0) {
      bump(&h->errors, 1);
    } else if (c->in_len > 0 && c->skip == 0) {
      /* end of stream inside a request: nothing to answer */
    }
    conn_close(h, c);
    return;
  }
}

static void accept_all(struct ex_httpd *h)
{
  for (;;) {
    struct epoll_event e;
    struct hconn *c;
    int fd = inc_accept4(h->api, h->lfd, NULL, NULL, SOCK_NONBLOCK);
    int one = 1;
    if (fd < 0) {
      if (errno != EAGAIN) {
        fprintf(stderr, "inc-httpd: accept: %s\n", strerror(errno));
      }
      return;
    }
    if (fd >= MAX_FDS || (c = calloc(1, sizeof(*c))) == NULL) {
      inc_close(h->api, fd);
      continue;
    }
    c->fd = fd;
    c->events = EPOLLIN | EPOLLRDHUP;
    inc_setsockopt(h->api, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    memset(&e, 0, sizeof(e));
    e.events = c->events;
    e.data.fd = fd;
    if (inc_epoll_ctl(h->api, h->ep, EPOLL_CTL_ADD, fd, &e) != 0) {
      fprintf(stderr, "inc-httpd: epoll_ctl: %s\n", strerror(errno));
      inc_close(h->api, fd);
      free(c);
      continue;
    }
    h->conns[fd] = c;
    bump(&h->accepted, 1);
  }
}

static void *server_main(void *arg)
{
  struct ex_httpd *h = arg;
  struct epoll_event evs[64];
  ex_block_signals(1);
  while (!atomic_load(&h->stop)) {
    int n = inc_epoll_wait(h->api, h->ep, evs, 64, 100), i;
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      fprintf(stderr, "inc-httpd: epoll_wait: %s\n", strerror(errno));
      h->failed = 1;
      break;
    }
    for (i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == h->lfd) {
        accept_all(h);
      } else if (fd >= 0 && fd < MAX_FDS && h->conns[fd] != NULL) {
        serve(h, h->conns[fd]);
      }
    }
  }
  for (int fd = 0; fd < MAX_FDS; fd++) {
    if (h->conns[fd] != NULL) {
      conn_close(h, h->conns[fd]);
    }
  }
  inc_api_thread_detach(h->api);
  return NULL;
}

int ex_httpd_start(struct ex_httpd **out, struct inc_api *api, uint16_t port, int quiet)
{
  struct ex_httpd *h = calloc(1, sizeof(*h));
  struct sockaddr_in6 sa;
  struct epoll_event e;
  int one = 1;
  if (h == NULL) {
    fprintf(stderr, "inc-httpd: no memory\n");
    return -1;
  }
  h->api = api;
  h->quiet = quiet;
  h->lfd = inc_socket(api, AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (h->lfd < 0) {
    fprintf(stderr, "inc-httpd: socket: %s\n", strerror(errno));
    free(h);
    return -1;
  }
  inc_setsockopt(api, h->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  memset(&sa, 0, sizeof(sa));
  sa.sin6_family = AF_INET6;
  sa.sin6_port = htons(port);
  sa.sin6_addr = in6addr_any; /* IPv6 and IPv4 */
  if (inc_bind(api, h->lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || inc_listen(api, h->lfd, 512) != 0) {
    fprintf(stderr, "inc-httpd: cannot listen on port %u: %s\n", port, strerror(errno));
    inc_close(api, h->lfd);
    free(h);
    return -1;
  }
  h->ep = inc_epoll_create(api, 0);
  memset(&e, 0, sizeof(e));
  e.events = EPOLLIN;
  e.data.fd = h->lfd;
  if (h->ep < 0 || inc_epoll_ctl(api, h->ep, EPOLL_CTL_ADD, h->lfd, &e) != 0) {
    fprintf(stderr, "inc-httpd: epoll: %s\n", strerror(errno));
    inc_close(api, h->lfd);
    free(h);
    return -1;
  }
  if (pthread_create(&h->thread, NULL, server_main, h) != 0) {
    fprintf(stderr, "inc-httpd: cannot start the server thread\n");
    inc_close(api, h->ep);
    inc_close(api, h->lfd);
    free(h);
    return -1;
  }
  /* the listen is up on every worker when inc_listen() returned; the
   * control thread used the API: it detaches (the server thread attaches) */
  inc_api_thread_detach(api);
  *out = h;
  return 0;
}

void ex_httpd_totals(struct ex_httpd *h, struct ex_httpd_totals *t)
{
  t->accepted = atomic_load_explicit(&h->accepted, memory_order_relaxed);
  t->requests = atomic_load_explicit(&h->requests, memory_order_relaxed);
  t->ok = atomic_load_explicit(&h->ok, memory_order_relaxed);
  t->not_found = atomic_load_explicit(&h->not_found, memory_order_relaxed);
  t->bad_request = atomic_load_explicit(&h->bad_request, memory_order_relaxed);
  t->other = atomic_load_explicit(&h->other, memory_order_relaxed);
  t->body_bytes = atomic_load_explicit(&h->body_bytes, memory_order_relaxed);
  t->errors = atomic_load_explicit(&h->errors, memory_order_relaxed);
}

int ex_httpd_stop(struct ex_httpd *h)
{
  int failed;
  atomic_store(&h->stop, 1);
  pthread_join(h->thread, NULL);
  failed = h->failed;
  inc_close(h->api, h->ep);
  inc_close(h->api, h->lfd);
  inc_api_thread_detach(h->api);
  free(h);
  return failed ? -1 : 0;
}
