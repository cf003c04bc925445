/* memlink: see memlink.h. */
#include "memlink.h"

#include <string.h>

#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/pbuf.h"
#include "netif/ethernet.h"

#define SLOT_STRIDE (2u + MEMLINK_SLOT_BYTES)

int memlink_ring_init(struct memlink_ring *r, uint8_t *slots, uint32_t size)
{
  if (r == NULL || slots == NULL || size == 0 || (size & (size - 1)) != 0) {
    return -1;
  }
  atomic_init(&r->head, 0);
  atomic_init(&r->tail, 0);
  r->size = size;
  r->slots = slots;
  return 0;
}

static uint16_t ethertype(const uint8_t *frame, uint16_t len)
{
  return len >= 14 ? (uint16_t)((frame[12] << 8) | frame[13]) : 0;
}

static void count(uint64_t *ipv4, uint64_t *arp, uint64_t *other, uint16_t type)
{
  if (type == ETHTYPE_IP) {
    (*ipv4)++;
  } else if (type == ETHTYPE_ARP) {
    (*arp)++;
  } else {
    (*other)++;
  }
}

static err_t linkoutput(struct netif *netif, struct pbuf *p)
{
  struct memlink_end *end = (struct memlink_end *)netif->state;
  struct memlink_ring *r = end->tx;
  uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
  /* pairs with the release store of head in memlink_poll(): the slot we are
   * about to overwrite has been fully read by the consumer */
  uint32_t head = atomic_load_explicit(&r->head, memory_order_acquire);
  uint8_t *slot;
  uint16_t len;

  if (tail - head == r->size || p->tot_len > MEMLINK_SLOT_BYTES) {
    end->counts.tx_dropped_full++;
    return ERR_OK; /* a cable that lost the frame */
  }
  slot = r->slots + (size_t)(tail & (r->size - 1)) * SLOT_STRIDE;
  len = pbuf_copy_partial(p, slot + 2, p->tot_len, 0);
  memcpy(slot, &len, 2);
  count(&end->counts.tx_ipv4, &end->counts.tx_arp, &end->counts.tx_other, ethertype(slot + 2, len));
  /* pairs with the acquire load of tail in memlink_poll(): the frame bytes
   * are visible before the slot is */
  atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
  return ERR_OK;
}

static err_t netif_init_cb(struct netif *netif)
{
  struct memlink_end *end = (struct memlink_end *)netif->state;
  netif->name[0] = 'm';
  netif->name[1] = 'l';
  netif->mtu = 1500;
  netif->hwaddr_len = ETH_HWADDR_LEN;
  memset(netif->hwaddr, 0, sizeof(netif->hwaddr));
  netif->hwaddr[0] = 0x02;
  netif->hwaddr[5] = end->id;
  netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
  netif->output = etharp_output;
  netif->output_ip6 = ethip6_output;
  netif->linkoutput = linkoutput;
  return ERR_OK;
}

int memlink_end_add(struct memlink_end *end, uint8_t id, const ip4_addr_t *addr,
                    struct memlink_ring *tx, struct memlink_ring *rx)
{
  ip4_addr_t mask, gw;
  memset(&end->counts, 0, sizeof(end->counts));
  end->id = id;
  end->tx = tx;
  end->rx = rx;
  IP4_ADDR(&mask, 255, 255, 255, 0);
  ip4_addr_set_zero(&gw);
  if (netif_add(&end->netif, addr, &mask, &gw, end, netif_init_cb, ethernet_input) == NULL) {
    return -1;
  }
  netif_set_up(&end->netif);
  return 0;
}

unsigned memlink_poll(struct memlink_end *end, unsigned max)
{
  struct memlink_ring *r = end->rx;
  uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
  /* pairs with the release store of tail in linkoutput() */
  uint32_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
  unsigned n = 0;

  while (head != tail && n < max) {
    const uint8_t *slot = r->slots + (size_t)(head & (r->size - 1)) * SLOT_STRIDE;
    uint16_t len;
    struct pbuf *p;
    memcpy(&len, slot, 2);
    p = pbuf_alloc(PBUF_RAW, len, PBUF_POOL);
    if (p == NULL) {
      end->counts.rx_dropped_nomem++;
    } else {
      pbuf_take(p, slot + 2, len);
      count(&end->counts.rx_ipv4, &end->counts.rx_arp, &end->counts.rx_other, ethertype(slot + 2, len));
    }
    head++;
    n++;
    /* pairs with the acquire load of head in linkoutput(): the slot may be
     * reused once we have copied it out */
    atomic_store_explicit(&r->head, head, memory_order_release);
    if (p != NULL && end->netif.input(p, &end->netif) != ERR_OK) {
      pbuf_free(p);
    }
  }
  return n;
}
