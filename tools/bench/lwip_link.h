/*
 * The link between the two plain-lwIP processes of the "lwip" backend: a
 * shared-memory ring of Ethernet frames per direction, each woken by an
 * eventfd, and the lwIP netif that drives it.
 *
 * Sending (netif linkoutput, called by lwIP with its core lock held, so one
 * producer at a time): copy the frame into the next slot, publish it, and
 * write the peer's eventfd only if its receive thread said it is going to
 * sleep (and only once per sleep: the sender clears the flag). A full ring makes the sender yield until the peer frees a slot
 * (bounded; after that the frame is dropped and counted), like a driver
 * waiting for transmit descriptors.
 *
 * Receiving (one driver thread per process, the lwIP way): take each frame,
 * copy it into a PBUF_POOL pbuf and hand it to tcpip_input(), which queues
 * it for the tcpip thread; with no frame, announce sleep and block in
 * read(eventfd).
 *
 * Cost, per frame: two copies of the frame (into the ring, into a pbuf) and
 * a few atomics. Per wake-up: one eventfd write(2) by the sender and one
 * read(2) plus a scheduler wake-up of the receiving thread, which then wakes
 * the tcpip thread through lwIP's mailbox (a futex). The counters report
 * frames and wake-ups, so a run shows how many of each a request costs.
 *
 * Memory ordering: see the comments naming each atomic's partner.
 */
#ifndef INC_BENCH_LWIP_LINK_H
#define INC_BENCH_LWIP_LINK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "lwip/ip4_addr.h"
#include "lwip/netif.h"

#define INC_BENCH_LINK_SLOTS 2048u        /* power of two */
#define INC_BENCH_LINK_FRAME_MAX 1536u    /* >= 14 + 1500 */

struct inc_bench_link_slot {
	uint32_t len;
	uint8_t data[INC_BENCH_LINK_FRAME_MAX];
};

/** One direction, in shared memory. */
struct inc_bench_link_ring {
	_Alignas(64) _Atomic uint32_t head;  /* written by the producer */
	_Alignas(64) _Atomic uint32_t tail;  /* written by the consumer */
	_Atomic uint32_t sleeping;           /* consumer is about to block / blocked;
						set by the consumer, cleared by the
						sender that wakes it */
	/* producer's counters (relaxed: statistics only) */
	_Alignas(64) _Atomic uint64_t frames;
	_Atomic uint64_t bytes;
	_Atomic uint64_t wakeups;            /* eventfd writes */
	_Atomic uint64_t full_waits;         /* times the ring was full */
	_Atomic uint64_t drops;              /* frames dropped on a full ring */
	/* consumer's counters */
	_Alignas(64) _Atomic uint64_t sleeps;
	_Atomic uint64_t input_drops;        /* no pbuf or tcpip mailbox full */
	_Alignas(64) struct inc_bench_link_slot slot[INC_BENCH_LINK_SLOTS];
};

/** One process's end of the link (process-local). */
struct inc_bench_link {
	struct inc_bench_link_ring *tx;
	struct inc_bench_link_ring *rx;
	int tx_efd;                          /* wakes the peer's receive thread */
	int rx_efd;                          /* our receive thread sleeps here */
	uint8_t mac[6];
	struct netif netif;
	pthread_t rx_thread;
	atomic_int stop;
	int running;
};

/** Add the netif (address/netmask, default route, up) and start the receive
 *  thread. Call after tcpip_init(). Thread: control plane, once per link.
 *  Returns: 0 or a negative errno. */
int inc_bench_link_start(struct inc_bench_link *l, struct inc_bench_link_ring *tx,
			 struct inc_bench_link_ring *rx, int tx_efd, int rx_efd, const uint8_t mac[6],
			 const ip4_addr_t *addr, const ip4_addr_t *netmask);

/** Stop the receive thread and remove the netif. Thread: control plane. */
void inc_bench_link_stop(struct inc_bench_link *l);

/** Zero a ring (before either process uses it). */
void inc_bench_link_ring_init(struct inc_bench_link_ring *r);

#endif
