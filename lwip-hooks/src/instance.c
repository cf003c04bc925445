/*
 * Per-thread lwIP instance context and the hooks that need it.
 *
 * lwIP's hooks receive no context argument, so each thread keeps one pointer
 * to its instance in thread-local storage (the only state of ours outside the
 * caller's structs). Like lwIP's own state it uses the initial-exec model.
 */
#include "inc_lwip_instance.h"

#include <errno.h>
#include <stddef.h>
#include <sys/random.h>
#include <time.h>

#include "lwip/init.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"
#include "lwip/netif.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/udp.h"
#include "inc_lwip_hooks.h"

#define INC_TLS __thread __attribute__((tls_model("initial-exec")))

static INC_TLS struct inc_lwip_instance *self;
/* lwIP has no deinit: a thread runs lwip_init() once; a later instance on the
 * same thread (e.g. a DPDK lcore that runs a stack again) reuses that state
 * once the previous instance has given everything back. */
static INC_TLS int lwip_started;
/* the thread's tcp ext arg slot (lwIP hands out each slot once per thread) */
static INC_TLS int ext_arg_slot = -1;

/* Nothing of a previous instance is left: no netif, no pcb. Its timers keep
 * running (lwIP's cyclic timers are the same for every instance). */
static int lwip_state_clean(void)
{
  return netif_list == NULL && tcp_active_pcbs == NULL && tcp_tw_pcbs == NULL &&
         tcp_bound_pcbs == NULL && tcp_listen_pcbs.listen_pcbs == NULL && udp_pcbs == NULL;
}

static void seed(struct inc_lwip_instance *inst)
{
  uint64_t s[2] = {0, 0};
  if (getrandom(s, sizeof(s), 0) != (ssize_t)sizeof(s) || (s[0] | s[1]) == 0) {
    /* getrandom cannot fail for 16 bytes once the pool is initialised;
     * stay usable regardless (xorshift must not start at zero). */
    s[0] = 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)inst;
    s[1] = 0xbf58476d1ce4e5b9ULL;
  }
  inst->rand_state[0] = s[0];
  inst->rand_state[1] = s[1];
  if (getrandom(inst->isn_key, sizeof(inst->isn_key), 0) != (ssize_t)sizeof(inst->isn_key)) {
    inst->isn_key[0] = s[0] ^ 0x5bd1e9955bd1e995ULL;
    inst->isn_key[1] = s[1] ^ 0xc2b2ae3d27d4eb4fULL;
  }
}

int inc_lwip_instance_init(struct inc_lwip_instance *inst)
{
  if (inst == NULL) {
    return -EINVAL;
  }
  if (self != NULL) {
    return -EBUSY;
  }
  if (lwip_started && !lwip_state_clean()) {
    return -EBUSY; /* the previous instance of this thread left something */
  }
  inst->owner = pthread_self();
  inst->tcp_port_ok = NULL;
  inst->udp_port_ok = NULL;
  inst->tcp_no_conn = NULL;
  inst->udp_no_conn = NULL;
  inst->ctx = NULL;
  inst->ip_input = NULL;
  inst->ip_input_ctx = NULL;
  inst->clock_offset_ms = 0;
  seed(inst);
  self = inst;
  if (!lwip_started) {
    lwip_started = 1;
    lwip_init();
  }
  return 0;
}

int inc_lwip_instance_ext_arg_id(void)
{
  if (self == NULL) {
    return -ENOENT;
  }
  if (ext_arg_slot < 0) {
    ext_arg_slot = tcp_ext_arg_alloc_id();
  }
  return ext_arg_slot;
}

struct inc_lwip_instance *inc_lwip_instance_self(void)
{
  return self;
}

int inc_lwip_instance_detach(struct inc_lwip_instance *inst)
{
  if (self == NULL || self != inst) {
    return -ENOENT;
  }
  self = NULL;
  return 0;
}

void inc__lwip_assert_owner(void)
{
  if (self == NULL) {
    inc__lwip_assert_fail("lwIP called from a thread that has no lwIP instance", __FILE__, __LINE__);
  }
  if (!pthread_equal(self->owner, pthread_self())) {
    inc__lwip_assert_fail("lwIP instance used by a thread that does not own it", __FILE__, __LINE__);
  }
}

int inc__lwip_tcp_local_port_ok(const struct tcp_pcb *pcb, u16_t port)
{
  const struct inc_lwip_instance *inst = self;
  if (inst == NULL || inst->tcp_port_ok == NULL) {
    return 1;
  }
  return inst->tcp_port_ok(inst->ctx, pcb, port);
}

int inc__lwip_udp_local_port_ok(const struct udp_pcb *pcb, u16_t port)
{
  const struct inc_lwip_instance *inst = self;
  if (inst == NULL || inst->udp_port_ok == NULL) {
    return 1;
  }
  return inst->udp_port_ok(inst->ctx, pcb, port);
}

int inc__lwip_tcp_no_conn(struct pbuf *p, const struct tcp_hdr *tcphdr, struct netif *inp)
{
  const struct inc_lwip_instance *inst = self;
  if (inst == NULL || inst->tcp_no_conn == NULL) {
    return 0;
  }
  return inst->tcp_no_conn(inst->ctx, p, tcphdr, inp);
}

int inc__lwip_udp_no_conn(struct pbuf *p, const struct udp_hdr *udphdr, struct netif *inp)
{
  const struct inc_lwip_instance *inst = self;
  if (inst == NULL || inst->udp_no_conn == NULL) {
    return 0;
  }
  return inst->udp_no_conn(inst->ctx, p, udphdr, inp);
}

int inc__lwip_ip_input(struct pbuf *p, struct netif *inp)
{
  const struct inc_lwip_instance *inst = self;
  void *ctx;
  inc_lwip_ip_input_fn fn;
  if (inst == NULL) {
    return 0;
  }
  /* pairs with the publisher's release store (inc_lwip_instance.h) */
  ctx = __atomic_load_n(&inst->ip_input_ctx, __ATOMIC_ACQUIRE);
  if (ctx == NULL) {
    return 0;
  }
  fn = __atomic_load_n(&inst->ip_input, __ATOMIC_RELAXED);
  return fn != NULL ? fn(ctx, p, inp) : 0;
}

uint32_t inc__lwip_rand(void)
{
  struct inc_lwip_instance *inst = self;
  uint64_t s1, s0, r;
  if (inst == NULL) {
    /* before init (lwip_init() itself draws numbers after self is set);
     * only reachable if lwIP is used without an instance */
    uint64_t v = 0;
    (void)getrandom(&v, sizeof(v), 0);
    return (uint32_t)v;
  }
  /* xorshift128+ (Vigna 2014) */
  s1 = inst->rand_state[0];
  s0 = inst->rand_state[1];
  r = s0 + s1;
  inst->rand_state[0] = s0;
  s1 ^= s1 << 23;
  inst->rand_state[1] = s1 ^ s0 ^ (s1 >> 18) ^ (s0 >> 5);
  return (uint32_t)(r >> 32);
}

u32_t sys_now(void)
{
  struct timespec ts;
  int64_t ms;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
  if (self != NULL) {
    ms += self->clock_offset_ms;
  }
  return (u32_t)ms;
}
