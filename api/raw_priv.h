/*
 * The per-core raw API's private structures (api/raw*.c).
 *
 * A connection handle is lwIP's tcp_pcb (the filter module hands consumers
 * newly accepted pcbs as struct inc_raw_conn). The raw API's state of a
 * connection (callbacks, argument, flags) is a struct inc__raw_tcp from the
 * worker's pool, attached to the pcb twice: as lwIP's callback argument
 * (tcp_arg: the trampolines get it) and in the raw API's ext arg slot
 * (LWIP_TCP_PCB_NUM_EXT_ARGS, lwipopts.h), whose destroy callback tells when
 * lwIP frees the pcb, and which the API's functions read to find the state
 * of a handle.
 *
 * Everything here is touched by the owner worker only.
 */
#ifndef INC_RAW_PRIV_H
#define INC_RAW_PRIV_H

#include <stdint.h>

#include "inception/pool.h"
#include "inception/raw.h"

#ifdef __cplusplus
extern "C" {
#endif

struct tcp_pcb;
struct udp_pcb;
struct inc_raw_tcp_ops;

/* struct inc__raw_tcp flags */
#define INC__RT_LIVE 0x001u      /* allocated */
#define INC__RT_APP 0x002u       /* the application holds the handle */
#define INC__RT_LISTEN 0x004u    /* a listener */
#define INC__RT_CONNECTED 0x008u /* established once (refused vs reset) */
#define INC__RT_NOCOPY 0x010u    /* nocopy_end is valid */
#define INC__RT_SHUT_RD 0x020u
#define INC__RT_SHUT_WR 0x040u
#define INC__RT_EOF 0x080u       /* the peer's end of stream was delivered */
#define INC__RT_TIMEDOUT 0x100u  /* lwIP's timers gave up on it */
#define INC__RT_IN_ERR 0x200u    /* its error callback is running */

struct inc__raw_core;

struct inc__raw_tcp {
  struct tcp_pcb *pcb;    /* NULL once lwIP freed it */
  struct tcp_pcb *handle; /* the application's handle: the pcb's address */
  struct inc__raw_core *core;
  const struct inc_raw_tcp_ops *ops;
  void *arg;
  struct inc__raw_tcp *prev, *next; /* the core's live list */
  uint64_t unrecved;     /* delivered, not yet reported by inc_raw_tcp_recved() */
  uint32_t nocopy_end;   /* sequence number after the last no-copy byte */
  uint32_t flags;
};

struct inc_raw_udp {
  struct udp_pcb *pcb;
  struct inc__raw_core *core;
  inc_raw_udp_recv_fn recv;
  void *arg;
  struct inc_raw_udp *prev, *next;
  uint32_t live;
};

/* One worker's raw API state (cache-aligned, owner only). */
struct inc__raw_core {
  struct inc_worker *w;
  uint64_t inst_key;            /* identifies the lwIP instance it was made for */
  struct inc_pool *tcp_pool;
  struct inc_pool *udp_pool;
  void *mem;                    /* both pools */
  uint8_t slot;                 /* lwIP tcp ext arg slot of the raw API */
  struct inc__raw_tcp *tcp_live;
  struct inc_raw_udp *udp_live;
  /* the connection whose callback runs (nested callbacks save and restore
   * it): a close or abort of it must make the trampoline return ERR_ABRT */
  struct tcp_pcb *cb_pcb;
  int cb_aborted;
  /* the handle whose error callback runs (lwIP freed it: calls on it fail) */
  struct tcp_pcb *err_handle;
  int finishing;                /* inc_raw_worker_fini() runs: nothing new */
  uint16_t next_udp_port;       /* ephemeral port search of UDP connects */
  uint64_t accept_no_state;     /* accepts refused: the pool was empty */
} __attribute__((aligned(64)));

/* raw.c */
/* The calling worker's state, or NULL. */
struct inc__raw_core *inc__raw_self(void);
/* Worker w's state, created with the defaults on first use; NULL and *rc
 * (-EPERM: not w's thread; -ENOMEM; -ENOSPC: no ext arg slot). */
struct inc__raw_core *inc__raw_core_of(struct inc_worker *w, int *rc);
/* The raw API's ext arg slot of the calling thread (allocated once per
 * thread: lwIP hands out each slot once per thread), or -ENOSPC. */
int inc__raw_slot(void);

/* raw_tcp.c: connection states */
/* Frees st (no callback). */
void inc__raw_st_free(struct inc__raw_tcp *st);
/* Frees st, then runs its release callback (not for listeners). */
void inc__raw_st_finish(struct inc__raw_tcp *st);
/* Unhooks st from its pcb: lwIP calls nothing of this API for it again. */
void inc__raw_detach(struct inc__raw_tcp *st);
/* The state of handle c on the calling worker; NULL and *rc, or NULL with
 * *rc 0 for a pcb without state (a consumer filter's new connection). */
struct inc__raw_tcp *inc__raw_state_of(const struct inc_raw_conn *c, struct inc__raw_core **corep, int *rc);
/* A live connection (not a listener) of the calling worker, or NULL and *rc. */
struct inc__raw_tcp *inc__raw_conn_of(const struct inc_raw_conn *c, int *rc);
/* tcp_abort(pcb) follows: a running callback of pcb must return ERR_ABRT. */
void inc__raw_note_abort(struct inc__raw_core *core, struct tcp_pcb *pcb);

/* raw_tcp_io.c */
/* Releases the application's connection st (close semantics). Returns 0. */
int inc__raw_conn_close(struct inc__raw_tcp *st);
/* Aborts every TCP object of the core (inc_raw_worker_fini()). */
void inc__raw_tcp_fini(struct inc__raw_core *core);

/* raw_udp.c */
void inc__raw_udp_fini(struct inc__raw_core *core);

#ifdef __cplusplus
}
#endif

#endif /* INC_RAW_PRIV_H */
