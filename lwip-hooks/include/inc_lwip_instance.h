/*
 * One lwIP instance per thread.
 *
 * With Inception's redirection (inc_lwip_state.h), all of lwIP's state is
 * thread-local: the thread that calls inc_lwip_instance_init() owns a complete
 * lwIP stack, and every lwIP call it makes acts on that stack only. This header
 * is the small amount of per-instance context that lwIP's hooks cannot receive
 * as an argument (port choice policy, random generator, clock, owner check).
 *
 * The struct is the caller's (STYLE 7): it is typically embedded in the
 * worker's per-core struct and must outlive the instance.
 */
#ifndef INC_LWIP_INSTANCE_H
#define INC_LWIP_INSTANCE_H

#include <pthread.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tcp_pcb;
struct udp_pcb;
struct pbuf;
struct tcp_hdr;
struct udp_hdr;
struct netif;

/**
 * Policy for ephemeral ports (upstream-patches/0002). Called for each free
 * local port lwIP considers when the application left the port 0; return
 * non-zero to take it. Runs on the owner thread, inside lwIP.
 */
typedef int (*inc_lwip_tcp_port_fn)(void *ctx, const struct tcp_pcb *pcb, uint16_t port);
typedef int (*inc_lwip_udp_port_fn)(void *ctx, const struct udp_pcb *pcb, uint16_t port);

/**
 * Input that matches no connection of this instance (upstream-patches/0004):
 * return non-zero to take the packet (the callback then owns p), 0 to let
 * lwIP answer as usual (listening pcb, RST, ICMP port unreachable). Runs on
 * the owner thread, inside lwIP's input path; ip_current_*() are valid.
 */
typedef int (*inc_lwip_tcp_no_conn_fn)(void *ctx, struct pbuf *p, const struct tcp_hdr *tcphdr,
                                       struct netif *inp);
typedef int (*inc_lwip_udp_no_conn_fn)(void *ctx, struct pbuf *p, const struct udp_hdr *udphdr,
                                       struct netif *inp);

/**
 * Every IPv4 and IPv6 packet this instance receives, before lwIP looks at
 * more than its version (lwIP's LWIP_HOOK_IP4_INPUT / LWIP_HOOK_IP6_INPUT,
 * upstream since lwIP 2.0; nothing is checked yet: the callback checks what
 * it reads, p->tot_len may include link-layer padding): return non-zero to
 * take the packet (the callback then owns p), 0 to let lwIP process it. Runs
 * on the owner thread; ip_current_*() are not valid yet.
 */
typedef int (*inc_lwip_ip_input_fn)(void *ctx, struct pbuf *p, struct netif *inp);

struct inc_lwip_instance {
  pthread_t owner;               /* the thread that called init */
  uint64_t rand_state[2];        /* xorshift128+ for LWIP_RAND() */
  uint64_t isn_key[2];           /* secret of RFC 6528 initial sequence numbers */
  /* policies, set by the instance's user (stack/) after init; NULL: plain lwIP */
  inc_lwip_tcp_port_fn tcp_port_ok; /* NULL: accept every free port */
  inc_lwip_udp_port_fn udp_port_ok; /* NULL: accept every free port */
  inc_lwip_tcp_no_conn_fn tcp_no_conn;
  inc_lwip_udp_no_conn_fn udp_no_conn;
  void *ctx;                     /* passed to every policy callback above */
  /* IP input policy, with its own context. Unlike the policies above, it may
   * be published by another thread while the instance runs (api/filter.c
   * publishes its RCU table here): that thread stores ip_input (relaxed),
   * then ip_input_ctx with __atomic release; the hook loads ip_input_ctx with
   * acquire (pairs with that release) and calls nothing while it is NULL.
   * Whatever ip_input_ctx points to is the publisher's to keep alive (RCU). */
  inc_lwip_ip_input_fn ip_input;
  void *ip_input_ctx;
  int64_t clock_offset_ms;       /* added to CLOCK_MONOTONIC for sys_now() */
} __attribute__((aligned(64)));

/**
 * Starts an lwIP instance on the calling thread: lwip_init() on this thread's
 * (thread-local) lwIP state, seeds the instance's random generator.
 *
 * Thread: the future owner. A thread may start a new instance after detaching
 *   the previous one if that one left nothing behind (no netif, no pcb): lwIP
 *   has no deinit, so the new instance reuses the thread's lwIP state (its
 *   statistics keep counting).
 * Ownership: inst stays the caller's and must outlive the thread's use of lwIP.
 * RCU: none.
 * Returns: 0, -EINVAL (inst NULL), -EBUSY (this thread has an instance, or
 *   the previous one left netifs or pcbs).
 */
int inc_lwip_instance_init(struct inc_lwip_instance *inst);

/**
 * The tcp ext arg slot (lwIP's tcp_ext_arg_alloc_id()) of the calling
 * thread's user: lwIP hands out each slot once per thread, so an instance that
 * reuses the thread's lwIP state gets the slot of the previous one.
 * Thread: the owner. Returns: the slot, or -ENOENT (no instance).
 */
int inc_lwip_instance_ext_arg_id(void);

/**
 * The calling thread's instance, or NULL if it has none.
 * Thread: any. RCU: none.
 */
struct inc_lwip_instance *inc_lwip_instance_self(void);

/**
 * Forgets the calling thread's instance (after the caller has closed every
 * pcb and removed its netifs). lwIP has no deinit: the thread-local state stays
 * until the thread exits, for the thread's next instance.
 * Thread: the owner. Returns: 0, or -ENOENT if the thread has no instance.
 */
int inc_lwip_instance_detach(struct inc_lwip_instance *inst);

#ifdef __cplusplus
}
#endif

#endif /* INC_LWIP_INSTANCE_H */
