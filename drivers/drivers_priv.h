/*
 * Private helpers of drivers/: error reports, capture of DPDK's log around a
 * call, the mbuf private-area layout shared by RX and TX, and the clock.
 */
#ifndef INC_DRIVERS_PRIV_H
#define INC_DRIVERS_PRIV_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <rte_log.h>
#include <rte_mbuf.h>

#include "inception/drv_err.h"
#include "inception/netif.h"
#include "lwip/pbuf.h"

#define INC_LOG(level, ...) rte_log(RTE_LOG_##level, RTE_LOGTYPE_USER1, "inception: " __VA_ARGS__)

/* Formats "<fmt>" into err (if not NULL), logs it at ERR level, returns code
 * (a negative errno). */
int inc__err(struct inc_drv_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* DPDK's log of one control-plane call, kept to quote it in an error. */
struct inc__logcap {
  FILE *prev;
  FILE *mem;
  char *buf;
  size_t len;
  char last[256]; /* the last non-empty line DPDK logged, "" if none */
};

/* Sends DPDK's log to memory until inc__logcap_end(). Control plane only. */
void inc__logcap_begin(struct inc__logcap *c);
/* Restores the log stream, repeats what was captured there, and keeps the
 * last line in c->last. */
void inc__logcap_end(struct inc__logcap *c);

/*
 * The private area of every mbuf of Inception's pools (port.c creates them
 * with this priv_size):
 *
 *   struct rte_mbuf | rx (pbuf_custom) | lwip_hdr | tx (struct pbuf) | data room
 *                                                                    ^ buf_addr
 * rx:       the mbuf seen as a received pbuf (netif_rx.c); it points at the
 *           mbuf's data.
 * lwip_hdr: the tag inc_lwip_bufs writes in front of every block it hands
 *           lwIP (INC_LWIP_BUF_HDR bytes).
 * tx:       the block handed to lwIP starts here: lwIP puts its struct pbuf
 *           (PBUF_RAM or PBUF_POOL) at the block's start and the payload right
 *           after it, i.e. in the data room.
 * The two pbuf slots are distinct because on the software wire a receiver
 * may hold an mbuf whose sender still holds it as a TX pbuf.
 */
/* lwIP's SIZEOF_STRUCT_PBUF (private to pbuf.c, same formula): where lwIP
 * puts the payload of a PBUF_RAM/PBUF_POOL pbuf relative to its struct. */
#define INC__PBUF_SIZE LWIP_MEM_ALIGN_SIZE(sizeof(struct pbuf))

struct inc__mbuf_priv {
  struct pbuf_custom rx;
  uint8_t lwip_hdr[INC_LWIP_BUF_HDR];
  uint8_t tx[INC__PBUF_SIZE];
};

#define INC__MBUF_PRIV_SIZE ((uint16_t)sizeof(struct inc__mbuf_priv))

_Static_assert(sizeof(struct inc__mbuf_priv) % RTE_MBUF_PRIV_ALIGN == 0,
               "priv size must be a multiple of RTE_MBUF_PRIV_ALIGN");
_Static_assert(offsetof(struct inc__mbuf_priv, tx) + INC__PBUF_SIZE == sizeof(struct inc__mbuf_priv),
               "lwIP's TX pbuf must end where the data room begins");

static inline struct inc__mbuf_priv *inc__priv(struct rte_mbuf *m)
{
  return (struct inc__mbuf_priv *)(void *)(m + 1);
}

/* The block handed to lwIP for mbuf m, and back. */
static inline void *inc__block_of(struct rte_mbuf *m)
{
  return inc__priv(m)->tx;
}

static inline struct rte_mbuf *inc__mbuf_of_block(void *block)
{
  return (struct rte_mbuf *)(void *)((uint8_t *)block - offsetof(struct inc__mbuf_priv, tx)) - 1;
}

/* Does mbuf m have Inception's private area? */
static inline int inc__has_priv(const struct rte_mbuf *m)
{
  return m->priv_size == INC__MBUF_PRIV_SIZE;
}

static inline uint64_t inc__now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t inc__wall_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* netif_tx.c / netif_rx.c / netif_setup.c internals */
err_t inc__netif_linkoutput(struct netif *netif, struct pbuf *p);
void inc__netif_rx_pbuf_free(struct pbuf *p);
void *inc__bufs_alloc(void *ctx, size_t size);
void inc__bufs_free(void *ctx, void *mem);
uint16_t inc__tcp_seg_maxlen(void *ctx, const struct tcp_pcb *pcb, uint16_t mss_len);
void inc__capture_frames(struct inc_netif *nif, struct rte_mbuf *const *pkts, unsigned n,
                         enum inc_pcap_dir dir);
void inc__capture_apply(struct inc_netif *nif);

/* wire.c: the TX side of a wire end. Takes the frames (sent, held or freed). */
unsigned inc__wire_tx(struct inc_netif *nif, struct rte_mbuf **pkts, unsigned n);
void inc__wire_drain(struct inc_netif *nif);

/* port.c: the mbuf of a port's pools that holds addr, or NULL. */
struct rte_mbuf *inc__port_mbuf_of_addr(const struct inc_port *port, const void *addr);

#endif /* INC_DRIVERS_PRIV_H */
