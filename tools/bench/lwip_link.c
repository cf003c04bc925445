/* Shared-memory Ethernet link between two lwIP processes (see lwip_link.h). */
#define _GNU_SOURCE
#include "lwip_link.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "lwip/etharp.h"
#include "lwip/pbuf.h"
#include "lwip/tcpip.h"

#define RING_MASK (INC_BENCH_LINK_SLOTS - 1u)
/* sched_yield()s a sender waits for a free slot before dropping. */
#define FULL_WAIT_YIELDS 10000u

void inc_bench_link_ring_init(struct inc_bench_link_ring *r)
{
	memset(r, 0, sizeof *r);
}

static void wake(int efd)
{
	uint64_t one = 1;

	/* An eventfd write only fails when the counter would overflow, which
	 * leaves the reader woken anyway. */
	if (write(efd, &one, sizeof one) != sizeof one)
		return;
}

static err_t link_output(struct netif *nif, struct pbuf *p)
{
	struct inc_bench_link *l = nif->state;
	struct inc_bench_link_ring *r = l->tx;
	/* head is ours (lwIP's core lock serialises linkoutput); the lock
	 * hand-over orders it between threads of this process. */
	uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	unsigned waited = 0;

	if (p->tot_len > INC_BENCH_LINK_FRAME_MAX) {
		atomic_fetch_add_explicit(&r->drops, 1, memory_order_relaxed);
		return ERR_OK;
	}
	/* acquire pairs with the release store of tail in rx_main: the peer
	 * has finished reading the slot we are about to overwrite. */
	while (h - atomic_load_explicit(&r->tail, memory_order_acquire) >= INC_BENCH_LINK_SLOTS) {
		if (waited == 0)
			atomic_fetch_add_explicit(&r->full_waits, 1, memory_order_relaxed);
		if (++waited > FULL_WAIT_YIELDS) {
			atomic_fetch_add_explicit(&r->drops, 1, memory_order_relaxed);
			return ERR_OK; /* dropped, as by a NIC with a full queue */
		}
		if (atomic_load_explicit(&r->sleeping, memory_order_relaxed) &&
		    atomic_exchange_explicit(&r->sleeping, 0, memory_order_relaxed))
			wake(l->tx_efd);
		sched_yield();
	}
	struct inc_bench_link_slot *s = &r->slot[h & RING_MASK];

	pbuf_copy_partial(p, s->data, p->tot_len, 0);
	s->len = p->tot_len;
	/* release pairs with the acquire load of head in rx_main: the frame is
	 * written before the peer can see the slot. */
	atomic_store_explicit(&r->head, h + 1u, memory_order_release);
	/* seq_cst fence pairs with the fence in rx_main between its store of
	 * sleeping and its re-read of head (store-load ordering on both sides):
	 * either we see sleeping == 1 and wake it, or it sees our head. Only
	 * the sender that takes the flag back to 0 writes the eventfd: one
	 * write per sleep, not one per frame sent while the receiver wakes. */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&r->sleeping, memory_order_relaxed) &&
	    atomic_exchange_explicit(&r->sleeping, 0, memory_order_relaxed)) {
		atomic_fetch_add_explicit(&r->wakeups, 1, memory_order_relaxed);
		wake(l->tx_efd);
	}
	atomic_fetch_add_explicit(&r->frames, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->bytes, p->tot_len, memory_order_relaxed);
	return ERR_OK;
}

static void deliver(struct inc_bench_link *l, const struct inc_bench_link_slot *s)
{
	struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)s->len, PBUF_POOL);

	if (p == NULL) {
		atomic_fetch_add_explicit(&l->rx->input_drops, 1, memory_order_relaxed);
		return;
	}
	pbuf_take(p, s->data, (u16_t)s->len);
	/* netif.input is tcpip_input: queued for the tcpip thread. */
	if (l->netif.input(p, &l->netif) != ERR_OK) {
		pbuf_free(p);
		atomic_fetch_add_explicit(&l->rx->input_drops, 1, memory_order_relaxed);
	}
}

static void *rx_main(void *arg)
{
	struct inc_bench_link *l = arg;
	struct inc_bench_link_ring *r = l->rx;
	uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);

	for (;;) {
		/* acquire pairs with the release store of head in link_output */
		uint32_t h = atomic_load_explicit(&r->head, memory_order_acquire);

		if (h == t) {
			if (atomic_load_explicit(&l->stop, memory_order_acquire))
				break; /* pairs with the release store in inc_bench_link_stop */
			atomic_store_explicit(&r->sleeping, 1, memory_order_relaxed);
			/* pairs with the seq_cst fence in link_output */
			atomic_thread_fence(memory_order_seq_cst);
			if (atomic_load_explicit(&r->head, memory_order_relaxed) == t &&
			    !atomic_load_explicit(&l->stop, memory_order_acquire)) {
				uint64_t v;

				atomic_fetch_add_explicit(&r->sleeps, 1, memory_order_relaxed);
				if (read(l->rx_efd, &v, sizeof v) < 0 && errno != EINTR)
					break;
			}
			atomic_store_explicit(&r->sleeping, 0, memory_order_relaxed);
			continue;
		}
		while (t != h) {
			deliver(l, &r->slot[t & RING_MASK]);
			t++;
			/* release pairs with the acquire load of tail in
			 * link_output: we are done with the slot. */
			atomic_store_explicit(&r->tail, t, memory_order_release);
		}
	}
	return NULL;
}

static err_t link_netif_init(struct netif *nif)
{
	struct inc_bench_link *l = nif->state;

	nif->name[0] = 'b';
	nif->name[1] = 'l';
	nif->output = etharp_output;
	nif->linkoutput = link_output;
	nif->mtu = 1500;
	nif->hwaddr_len = ETH_HWADDR_LEN;
	memcpy(nif->hwaddr, l->mac, ETH_HWADDR_LEN);
	nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
	return ERR_OK;
}

int inc_bench_link_start(struct inc_bench_link *l, struct inc_bench_link_ring *tx,
			 struct inc_bench_link_ring *rx, int tx_efd, int rx_efd, const uint8_t mac[6],
			 const ip4_addr_t *addr, const ip4_addr_t *netmask)
{
	ip4_addr_t gw;
	int rc;

	memset(l, 0, sizeof *l);
	l->tx = tx;
	l->rx = rx;
	l->tx_efd = tx_efd;
	l->rx_efd = rx_efd;
	memcpy(l->mac, mac, sizeof l->mac);
	atomic_init(&l->stop, 0);
	ip4_addr_set_zero(&gw);
	LOCK_TCPIP_CORE();
	struct netif *n = netif_add(&l->netif, addr, netmask, &gw, l, link_netif_init, tcpip_input);

	if (n != NULL) {
		netif_set_default(&l->netif);
		netif_set_up(&l->netif);
	}
	UNLOCK_TCPIP_CORE();
	if (n == NULL)
		return -ENODEV;
	rc = pthread_create(&l->rx_thread, NULL, rx_main, l);
	if (rc != 0) {
		LOCK_TCPIP_CORE();
		netif_remove(&l->netif);
		UNLOCK_TCPIP_CORE();
		return -rc;
	}
	pthread_setname_np(l->rx_thread, "lwip-link-rx");
	l->running = 1;
	return 0;
}

void inc_bench_link_stop(struct inc_bench_link *l)
{
	if (!l->running)
		return;
	/* release pairs with the acquire loads of stop in rx_main */
	atomic_store_explicit(&l->stop, 1, memory_order_release);
	wake(l->rx_efd);
	pthread_join(l->rx_thread, NULL);
	LOCK_TCPIP_CORE();
	netif_set_down(&l->netif);
	netif_remove(&l->netif);
	UNLOCK_TCPIP_CORE();
	l->running = 0;
}
