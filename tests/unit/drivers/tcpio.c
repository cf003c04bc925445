/* tcpio: see tcpio.h. */
#include "tcpio.h"

#include <string.h>

#include <stdio.h>

#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

uint8_t tio_pattern(uint32_t seed, uint64_t i)
{
  uint64_t x = i * 0x9e3779b97f4a7c15ULL + seed * 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 29;
  return (uint8_t)(x ^ (x >> 17) ^ (i >> 13));
}

static struct tio_conn *conn_new(struct tio *t)
{
  unsigned i;
  for (i = 0; i < TIO_MAX_CONNS; i++) {
    if (!t->c[i].used) {
      memset(&t->c[i], 0, sizeof(t->c[i]));
      t->c[i].used = 1;
      t->c[i].t = t;
      return &t->c[i];
    }
  }
  return NULL;
}

static void conn_detach(struct tio_conn *c)
{
  if (c->pcb != NULL) {
    tcp_arg(c->pcb, NULL);
    tcp_recv(c->pcb, NULL);
    tcp_sent(c->pcb, NULL);
    tcp_err(c->pcb, NULL);
    tcp_poll(c->pcb, NULL, 0);
  }
  c->pcb = NULL;
  c->closed = 1;
  while (c->zc_n > 0) {
    pbuf_free(c->zc[c->zc_head]);
    c->zc_head = (c->zc_head + 1) % TIO_ZC_INFLIGHT;
    c->zc_n--;
  }
}

static void on_err(void *arg, err_t err)
{
  struct tio_conn *c = (struct tio_conn *)arg;
  (void)err;
  if (c == NULL) {
    return;
  }
  c->pcb = NULL; /* already freed by lwIP */
  if (!c->complete) {
    c->failed = 1;
    c->t->failures++;
  }
  conn_detach(c);
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
  struct tio_conn *c = (struct tio_conn *)arg;
  struct pbuf *q;
  (void)err;
  if (c == NULL) {
    if (p != NULL) {
      tcp_recved(pcb, p->tot_len);
      pbuf_free(p);
    }
    return ERR_OK;
  }
  if (p == NULL) { /* FIN */
    if (c->sink && !c->complete) {
      if (c->done == c->bytes && !c->corrupt) {
        c->complete = 1;
        c->t->sinks_complete++;
      } else if (!c->failed) {
        c->failed = 1;
        c->t->failures++;
      }
    }
    tcp_close(pcb);
    conn_detach(c);
    return ERR_OK;
  }
  for (q = p; q != NULL; q = q->next) {
    const uint8_t *b = (const uint8_t *)q->payload;
    uint16_t i;
    c->t->last_rx_payload = q->payload;
    for (i = 0; i < q->len; i++) {
      if (c->done + i >= c->bytes || b[i] != tio_pattern(c->seed, c->done + i)) {
        if (!c->corrupt) {
          c->corrupt = 1;
          c->t->corrupt++;
        }
        break;
      }
    }
    c->done += q->len;
  }
  if (!c->corrupt) {
    c->t->verified += p->tot_len;
  }
  tcp_recved(pcb, p->tot_len);
  pbuf_free(p);
  return ERR_OK;
}

/* Writes as much of the stream as lwIP takes. */
static void source_push(struct tio_conn *c)
{
  struct tcp_pcb *pcb = c->pcb;
  if (pcb == NULL || c->complete || c->failed) {
    return;
  }
  while (c->done < c->bytes) {
    uint64_t left = c->bytes - c->done;
    uint16_t room = tcp_sndbuf(pcb);
    err_t e;
    if (c->t->zerocopy) {
      uint32_t n = left < TIO_ZC_BUF ? (uint32_t)left : TIO_ZC_BUF;
      struct pbuf *buf;
      uint32_t i;
      if (c->zc_n == TIO_ZC_INFLIGHT || room < n || tcp_sndqueuelen(pcb) + 4 > TCP_SND_QUEUELEN) {
        break;
      }
      /* the application's buffer comes from the stack: an mbuf */
      buf = pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_RAM);
      if (buf == NULL) {
        break;
      }
      for (i = 0; i < n; i++) {
        ((uint8_t *)buf->payload)[i] = tio_pattern(c->seed, c->done + i);
      }
      e = tcp_write(pcb, buf->payload, (u16_t)n, 0); /* by reference */
      if (e != ERR_OK) {
        pbuf_free(buf);
        break;
      }
      if (c->t->first_zc_buf == NULL) {
        c->t->first_zc_buf = buf->payload;
      }
      c->zc[(c->zc_head + c->zc_n) % TIO_ZC_INFLIGHT] = buf;
      c->zc_len[(c->zc_head + c->zc_n) % TIO_ZC_INFLIGHT] = n;
      c->zc_n++;
      c->done += n;
    } else {
      uint8_t chunk[2048];
      uint32_t n = left < sizeof(chunk) ? (uint32_t)left : (uint32_t)sizeof(chunk);
      uint32_t i;
      if (room == 0) {
        break;
      }
      if (n > room) {
        n = room;
      }
      for (i = 0; i < n; i++) {
        chunk[i] = tio_pattern(c->seed, c->done + i);
      }
      e = tcp_write(pcb, chunk, (u16_t)n, TCP_WRITE_FLAG_COPY | (left > n ? TCP_WRITE_FLAG_MORE : 0));
      if (e != ERR_OK) {
        break;
      }
      c->done += n;
    }
  }
  tcp_output(pcb);
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
  struct tio_conn *c = (struct tio_conn *)arg;
  (void)pcb;
  if (c == NULL) {
    return ERR_OK;
  }
  c->acked += len;
  if (c->t->zerocopy) {
    /* TCP is done with a buffer once all of it is acknowledged */
    uint64_t freed = 0, acked_in_bufs = c->acked;
    while (c->zc_n > 0) {
      uint32_t n = c->zc_len[c->zc_head];
      if (acked_in_bufs < freed + n) {
        break;
      }
      freed += n;
      pbuf_free(c->zc[c->zc_head]);
      c->zc_head = (c->zc_head + 1) % TIO_ZC_INFLIGHT;
      c->zc_n--;
    }
    c->acked -= freed;
  }
  source_push(c);
  if (c->done == c->bytes && !c->complete && c->zc_n == 0 && tcp_sndqueuelen(c->pcb) == 0) {
    c->complete = 1;
    c->t->sources_complete++;
    tcp_close(c->pcb);
    conn_detach(c);
  }
  return ERR_OK;
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
  struct tio_conn *c = (struct tio_conn *)arg;
  (void)pcb;
  if (err != ERR_OK) {
    return err;
  }
  source_push(c);
  return ERR_OK;
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
  struct tio *t = (struct tio *)arg;
  struct tio_conn *c;
  if (err != ERR_OK || pcb == NULL) {
    return ERR_VAL;
  }
  c = conn_new(t);
  if (c == NULL) {
    tcp_abort(pcb);
    return ERR_ABRT;
  }
  c->pcb = pcb;
  c->sink = !t->accept_as_source;
  c->seed = t->sink_seed;
  c->bytes = t->sink_bytes;
  t->accepted++;
  tcp_arg(pcb, c);
  tcp_recv(pcb, on_recv);
  tcp_err(pcb, on_err);
  if (t->accept_as_source) {
    tcp_sent(pcb, on_sent);
    source_push(c);
  }
  return ERR_OK;
}

void tio_init(struct tio *t, int zerocopy)
{
  memset(t, 0, sizeof(*t));
  t->zerocopy = zerocopy;
}

int tio_listen(struct tio *t, uint16_t port, uint32_t seed, uint64_t bytes)
{
  struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_ANY);
  err_t e;
  if (pcb == NULL) {
    return ERR_MEM;
  }
  e = tcp_bind(pcb, IP_ANY_TYPE, port);
  if (e != ERR_OK) {
    tcp_close(pcb);
    return e;
  }
  t->listener = tcp_listen(pcb);
  if (t->listener == NULL) {
    tcp_close(pcb);
    return ERR_MEM;
  }
  t->sink_seed = seed;
  t->sink_bytes = bytes;
  tcp_arg(t->listener, t);
  tcp_accept(t->listener, on_accept);
  return ERR_OK;
}

int tio_listen_source(struct tio *t, uint16_t port, uint32_t seed, uint64_t bytes)
{
  int rc = tio_listen(t, port, seed, bytes);
  t->accept_as_source = 1;
  return rc;
}

int tio_connect(struct tio *t, const ip_addr_t *dst, uint16_t port, uint16_t local_port, uint32_t seed,
                uint64_t bytes)
{
  struct tio_conn *c = conn_new(t);
  struct tcp_pcb *pcb;
  err_t e;
  if (c == NULL) {
    return ERR_MEM;
  }
  pcb = tcp_new_ip_type(IP_GET_TYPE(dst));
  if (pcb == NULL) {
    c->used = 0;
    return ERR_MEM;
  }
  c->pcb = pcb;
  c->seed = seed;
  c->bytes = bytes;
  tcp_arg(pcb, c);
  tcp_recv(pcb, on_recv);
  tcp_sent(pcb, on_sent);
  tcp_err(pcb, on_err);
  if (local_port != 0 && (e = tcp_bind(pcb, IP_ANY_TYPE, local_port)) != ERR_OK) {
    tcp_arg(pcb, NULL);
    tcp_abort(pcb);
    c->used = 0;
    return e;
  }
  e = tcp_connect(pcb, dst, port, on_connected);
  if (e != ERR_OK) {
    tcp_arg(pcb, NULL);
    tcp_abort(pcb);
    c->used = 0;
    return e;
  }
  return ERR_OK;
}

void tio_poll(struct tio *t)
{
  unsigned i;
  for (i = 0; i < TIO_MAX_CONNS; i++) {
    struct tio_conn *c = &t->c[i];
    if (c->used && !c->sink && c->pcb != NULL && !c->complete) {
      source_push(c);
    }
  }
}

void tio_stop(struct tio *t)
{
  unsigned i;
  for (i = 0; i < TIO_MAX_CONNS; i++) {
    struct tio_conn *c = &t->c[i];
    if (c->used && c->pcb != NULL) {
      struct tcp_pcb *pcb = c->pcb;
      conn_detach(c);
      tcp_abort(pcb);
    }
  }
  if (t->listener != NULL) {
    tcp_close(t->listener);
    t->listener = NULL;
  }
}

void tio_dump(const struct tio *t, const char *tag)
{
  unsigned i;
  struct inc_lwip_bufs_stats st;
  inc_lwip_bufs_stats_get(&st);
  fprintf(stderr, "%s: buffers from the provider %llu (failed %llu), from libc %llu, freed %llu\n", tag,
          (unsigned long long)st.provider_allocs, (unsigned long long)st.provider_failures,
          (unsigned long long)st.libc_allocs, (unsigned long long)st.frees);
  for (i = 0; i < TIO_MAX_CONNS; i++) {
    const struct tio_conn *c = &t->c[i];
    const struct tcp_pcb *p = c->pcb;
    if (!c->used) {
      continue;
    }
    fprintf(stderr, "%s: conn %u sink=%d done=%llu/%llu acked=%llu complete=%d failed=%d", tag, i, c->sink,
            (unsigned long long)c->done, (unsigned long long)c->bytes, (unsigned long long)c->acked,
            c->complete, c->failed);
    if (p != NULL) {
      fprintf(stderr,
              " state=%d qlen=%u cwnd=%u ssthresh=%u snd_wnd=%u mss=%u unsent=%u+%u unacked=%u+%u "
              "lastack=%u snd_nxt=%u rcv_nxt=%u rtime=%d rto=%d nrtx=%u persist=%u flags=%#x",
              (int)p->state, (unsigned)p->snd_queuelen, (unsigned)p->cwnd, (unsigned)p->ssthresh,
              (unsigned)p->snd_wnd, p->mss, p->unsent ? lwip_ntohl(p->unsent->tcphdr->seqno) : 0,
              p->unsent ? p->unsent->len : 0, p->unacked ? lwip_ntohl(p->unacked->tcphdr->seqno) : 0,
              p->unacked ? p->unacked->len : 0, p->lastack, p->snd_nxt, p->rcv_nxt, p->rtime, p->rto, p->nrtx,
              p->persist_backoff, (unsigned)p->flags);
    }
    fprintf(stderr, "\n");
  }
}
