/* The software wire's fault injector (fault_priv.h). */
#include "fault_priv.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

static uint64_t splitmix64(uint64_t *x)
{
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* xorshift128+ (Vigna 2014): 32 good bits from the top. */
static uint32_t next32(struct inc_wire_faults *f)
{
  uint64_t s1 = f->rng[0];
  const uint64_t s0 = f->rng[1];
  f->rng[0] = s0;
  s1 ^= s1 << 23;
  f->rng[1] = s1 ^ s0 ^ (s1 >> 18) ^ (s0 >> 5);
  return (uint32_t)((f->rng[1] + s0) >> 32);
}

static uint64_t pct_threshold(double pct)
{
  return (uint64_t)(pct / 100.0 * 4294967296.0);
}

int inc__fault_check(const struct inc_wire_fault *cfg)
{
  if (cfg != NULL &&
      (!(cfg->loss_pct >= 0.0 && cfg->loss_pct <= 100.0) ||
       !(cfg->dup_pct >= 0.0 && cfg->dup_pct <= 100.0) ||
       cfg->reorder_window > INC_DRV_WIRE_MAX_HELD / 2 || cfg->delay_us > 10u * 1000u * 1000u)) {
    return -EINVAL;
  }
  return 0;
}

int inc__fault_init(struct inc_wire_faults *f, const struct inc_wire_fault *cfg)
{
  uint64_t s;
  memset(f, 0, offsetof(struct inc_wire_faults, held));
  if (inc__fault_check(cfg) != 0) {
    return -EINVAL;
  }
  if (cfg != NULL) {
    f->cfg = *cfg;
  }
  f->loss_thr = pct_threshold(f->cfg.loss_pct);
  f->dup_thr = pct_threshold(f->cfg.dup_pct);
  s = f->cfg.seed;
  f->rng[0] = splitmix64(&s);
  f->rng[1] = splitmix64(&s);
  if ((f->rng[0] | f->rng[1]) == 0) {
    f->rng[1] = 1;
  }
  f->hold_ns = (uint64_t)INC_DRV_WIRE_REORDER_HOLD_US * 1000u;
  f->active = f->loss_thr != 0 || f->dup_thr != 0 || f->cfg.reorder_window > 1 || f->cfg.delay_us != 0;
  return 0;
}

unsigned inc__fault_decide(struct inc_wire_faults *f)
{
  unsigned verdict = 0;
  f->counts.offered++;
  /* Both draws are always taken, so a run's decisions depend only on the
   * seed and the packet count, not on the probabilities of the other fault. */
  if (next32(f) < f->loss_thr) {
    verdict |= INC__FAULT_DROP;
  }
  if (next32(f) < f->dup_thr && !(verdict & INC__FAULT_DROP)) {
    verdict |= INC__FAULT_DUP;
  }
  if (verdict & INC__FAULT_DROP) {
    f->counts.dropped++;
  }
  if (verdict & INC__FAULT_DUP) {
    f->counts.duplicated++;
  }
  return verdict;
}

/* Release order: by key, and on equal keys the later packet first, so that a
 * window of w lets a packet be overtaken by up to w - 1 later ones (with ties
 * going to the earlier one, a window of 2 could never reorder). */
static int before(const struct inc_wire_fault_item *a, const struct inc_wire_fault_item *b)
{
  return a->key < b->key || (a->key == b->key && a->seq > b->seq);
}

static void sift_up(struct inc_wire_faults *f, uint32_t i)
{
  while (i > 0) {
    uint32_t parent = (i - 1) / 2;
    struct inc_wire_fault_item tmp;
    if (!before(&f->held[i], &f->held[parent])) {
      break;
    }
    tmp = f->held[i];
    f->held[i] = f->held[parent];
    f->held[parent] = tmp;
    i = parent;
  }
}

static void sift_down(struct inc_wire_faults *f, uint32_t i)
{
  for (;;) {
    uint32_t l = 2 * i + 1, r = l + 1, m = i;
    struct inc_wire_fault_item tmp;
    if (l < f->n_held && before(&f->held[l], &f->held[m])) {
      m = l;
    }
    if (r < f->n_held && before(&f->held[r], &f->held[m])) {
      m = r;
    }
    if (m == i) {
      return;
    }
    tmp = f->held[i];
    f->held[i] = f->held[m];
    f->held[m] = tmp;
    i = m;
  }
}

int inc__fault_hold(struct inc_wire_faults *f, void *pkt, uint64_t now_ns)
{
  struct inc_wire_fault_item *it;
  uint64_t seq;
  if (f->n_held == INC_DRV_WIRE_MAX_HELD) {
    return -ENOSPC;
  }
  seq = f->next_seq++;
  it = &f->held[f->n_held];
  it->pkt = pkt;
  it->seq = seq;
  it->due_ns = now_ns + (uint64_t)f->cfg.delay_us * 1000u;
  it->key = seq + (f->cfg.reorder_window > 1 ? next32(f) % f->cfg.reorder_window : 0);
  sift_up(f, f->n_held++);
  return 0;
}

static void *pop(struct inc_wire_faults *f)
{
  struct inc_wire_fault_item top = f->held[0];
  f->held[0] = f->held[--f->n_held];
  if (f->n_held > 0) {
    sift_down(f, 0);
  }
  if (f->counts.released > 0 && top.seq < f->max_released_seq) {
    f->counts.reordered++;
  }
  if (top.seq > f->max_released_seq || f->counts.released == 0) {
    f->max_released_seq = top.seq;
  }
  f->counts.released++;
  return top.pkt;
}

unsigned inc__fault_release(struct inc_wire_faults *f, uint64_t now_ns, void **out, unsigned max, int force)
{
  unsigned n = 0;
  while (n < max && f->n_held > 0) {
    const struct inc_wire_fault_item *top = &f->held[0];
    int due = top->due_ns <= now_ns;
    /* no packet still to come can have a smaller key than this one */
    int settled = top->key < f->next_seq || now_ns >= top->due_ns + f->hold_ns;
    if (!(due && settled)) {
      if (!force) {
        break;
      }
      f->counts.overflow++;
      force = 0;
    }
    out[n++] = pop(f);
  }
  return n;
}

unsigned inc__fault_drain(struct inc_wire_faults *f, void **out, unsigned max)
{
  unsigned n = 0;
  while (n < max && f->n_held > 0) {
    out[n++] = pop(f);
  }
  return n;
}
