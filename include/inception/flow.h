/*
 * Flow table: which worker core owns a connection.
 *
 * A lock-free, resizable hash table (liburcu's cds_lfht, QSBR flavour) keyed
 * by (protocol, local address/port, remote address/port, port id), IPv4 or
 * IPv6, mapping to the owner core. Any core that receives a packet of a flow
 * it does not own (a PMD without RSS, the kernel's tap hashing, fragments, ICMP
 * errors) looks the owner up here and forwards the packet over a channel.
 *
 * Reads are lock-free and take no lock at all: a lookup walks the table while
 * the calling thread is an online QSBR reader (inc_rcu_register()). Removed
 * entries are reclaimed after a grace period: each core collects the entries
 * it removed into a batch and hands the batch to call_rcu (one callback per
 * INC_FLOW_RETIRE_BATCH entries); the callback pushes every entry back to the
 * pool of the core that inserted it. Entries come from per-core pools sized at
 * init, so insert and remove never touch the heap (cds_lfht itself allocates
 * bucket arrays when it resizes, in its own worker thread).
 *
 * Lookups go through a lookup index first (one 64-byte line per 2 entries of
 * capacity, in the caller's memory, see INC_FLOW_INDEX_LOAD): the key's hash
 * names a line, the line names the entry, the entry's key is compared, so a
 * lookup makes two dependent memory accesses instead of cds_lfht's chain, and
 * a burst lookup prefetches them for all its keys. Keys that find their line
 * full (about 1 in 1,500 at full capacity with a good hash) are looked up in
 * the cds_lfht, which stays the authoritative table.
 *
 * Keys are plain bytes: build them with inc_flow_key_v4()/_v6() so that the
 * unused bytes are zero. Addresses are in network byte order (as on the wire),
 * ports in host byte order (as lwIP's pcbs hold them).
 */
#ifndef INC_FLOW_H
#define INC_FLOW_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "inception/lockfree_opts.h"

#ifdef __cplusplus
extern "C" {
#endif

#define INC_FLOW_IPV4 4
#define INC_FLOW_IPV6 6

/** A flow, as seen from the local stack. 40 bytes, no padding. */
struct inc_flow_key {
  uint8_t proto;          /**< IP protocol number (6 TCP, 17 UDP, ...) */
  uint8_t family;         /**< INC_FLOW_IPV4 or INC_FLOW_IPV6 */
  uint16_t port_id;       /**< DPDK ethdev port the flow lives on */
  uint16_t local_port;    /**< host byte order */
  uint16_t remote_port;   /**< host byte order */
  uint8_t local_addr[16]; /**< network byte order; IPv4 uses bytes 0..3, the rest are 0 */
  uint8_t remote_addr[16];
};

/** An IPv4 key; addresses are 32-bit values in network byte order. */
static inline void inc_flow_key_v4(struct inc_flow_key *k, uint8_t proto, uint16_t port_id,
                                   uint32_t local_addr_be, uint16_t local_port,
                                   uint32_t remote_addr_be, uint16_t remote_port) {
  memset(k, 0, sizeof(*k));
  k->proto = proto;
  k->family = INC_FLOW_IPV4;
  k->port_id = port_id;
  k->local_port = local_port;
  k->remote_port = remote_port;
  memcpy(k->local_addr, &local_addr_be, 4);
  memcpy(k->remote_addr, &remote_addr_be, 4);
}

/** An IPv6 key; addresses are 16 bytes in network byte order. */
static inline void inc_flow_key_v6(struct inc_flow_key *k, uint8_t proto, uint16_t port_id,
                                   const uint8_t local_addr[16], uint16_t local_port,
                                   const uint8_t remote_addr[16], uint16_t remote_port) {
  memset(k, 0, sizeof(*k));
  k->proto = proto;
  k->family = INC_FLOW_IPV6;
  k->port_id = port_id;
  k->local_port = local_port;
  k->remote_port = remote_port;
  memcpy(k->local_addr, local_addr, 16);
  memcpy(k->remote_addr, remote_addr, 16);
}

/**
 * A key's hash. A table uses inc_flow_hash (with its seed) unless its config
 * names another function, e.g. a software Toeplitz with the NIC's RSS key, so
 * that the RX path can pass the hash the NIC computed to
 * inc_flow_lookup_hashed() instead of hashing again.
 */
typedef uint32_t (*inc_flow_hash_fn)(const struct inc_flow_key *key, uint64_t seed);

/**
 * Inception's key hash: every key byte mixed, good low bits (cds_lfht picks
 * the bucket from the low bits). Thread: any. Returns: the hash.
 */
uint32_t inc_flow_hash(const struct inc_flow_key *key, uint64_t seed);

struct inc_flow_config {
  unsigned cores;            /**< worker cores (owner values 0..cores-1), 1..INC_LF_MAX_WORKERS */
  unsigned entries_per_core; /**< flows each core can have inserted and not yet reclaimed, >= 1 */
  unsigned init_buckets;     /**< initial buckets, power of two; 0: INC_FLOW_INIT_BUCKETS_DEFAULT */
  unsigned max_buckets;      /**< bucket limit, power of two, or 0 for none */
  int auto_resize;           /**< non-zero: the table grows and shrinks with its load (then no inc_flow_resize) */
  inc_flow_hash_fn hash;     /**< NULL: inc_flow_hash */
  uint64_t seed;             /**< passed to hash (choose it at random against hash flooding) */
};

struct inc_flow_stats {
  uint64_t inserted;  /**< successful inserts */
  uint64_t removed;   /**< successful removes */
  uint64_t exists;    /**< inserts refused: the key was there */
  uint64_t no_memory; /**< inserts refused: the inserting core's pool was empty */
  uint64_t retired_batches; /**< batches handed to call_rcu */
  uint64_t reclaimed; /**< entries back in their pool after a grace period */
  uint64_t entries_in_use; /**< entries out of the pools: in the table or awaiting reclamation */
  uint64_t index_overflows; /**< inserts whose index line was full (their lookups ask the cds_lfht) */
  uint64_t index_handoffs;  /**< entries removed by another core before their insert had put
                                 them in the index (the inserter then retired them) */
};

struct inc_flow_table;

/**
 * Bytes of caller memory a table with this configuration needs (the table,
 * every core's entry pool and the lookup index: 96 to 128 bytes per entry of
 * capacity; cds_lfht's buckets are allocated by liburcu).
 * Thread: any. Returns: the size, or 0 if cfg is invalid.
 */
size_t inc_flow_table_footprint(const struct inc_flow_config *cfg);

/**
 * Builds an empty table in caller memory and creates its cds_lfht.
 * Thread: control plane (need not be registered).
 * Ownership: mem stays the caller's; release it after inc_flow_table_destroy().
 * RCU: none.
 * Returns: 0; -EINVAL (NULL argument, bad field, mem not 64-byte aligned);
 *   -ENOSPC (len too small); -ENOMEM (liburcu could not create the table).
 */
int inc_flow_table_init(struct inc_flow_table **out, void *mem, size_t len,
                        const struct inc_flow_config *cfg);

/**
 * Removes every entry, waits for all reclamation callbacks, and destroys the
 * cds_lfht.
 * Thread: control plane, registered with inc_rcu_register() (online or
 *   offline: it goes offline while it waits), after every other user of the
 *   table has stopped.
 * Blocks: yes (grace periods, call_rcu callbacks, pending resizes).
 * Returns: 0, or -errno of cds_lfht_destroy.
 */
int inc_flow_table_destroy(struct inc_flow_table *t);

/**
 * Binds core's entry pool and retire list to the calling thread (checked
 * builds then assert it). Thread: the core's worker. Returns: 0 or -EINVAL.
 */
int inc_flow_core_bind(struct inc_flow_table *t, unsigned core);

/**
 * Adds key -> owner. The entry comes from core's pool.
 * Thread: worker `core` (the pool's owner), registered and online.
 * RCU: the caller must be an online QSBR reader (no other lock needed).
 * Returns: 0; -EEXIST (key present, not changed); -ENOMEM (core's pool is
 *   empty, counted); -EINVAL (core or owner >= cores, family not 4/6).
 */
int inc_flow_insert(struct inc_flow_table *t, unsigned core, const struct inc_flow_key *key,
                    uint16_t owner);

/**
 * The owner core of key: its index line, then its entry (two dependent
 * loads), or the cds_lfht when the line has overflowed. A key inserted or
 * removed concurrently may be found or not; after its insert (remove) has
 * returned, it is found (not found) by lookups that happen after that.
 * Thread: any registered, online thread. Lock-free, no write to shared memory.
 * RCU: the caller must be an online QSBR reader (entries are read in place;
 *   they are reclaimed only after a grace period); the result is a copy, so
 *   no reference outlives the call.
 * Returns: the owner (>= 0), or -ENOENT.
 */
int inc_flow_lookup(struct inc_flow_table *t, const struct inc_flow_key *key);

/**
 * As inc_flow_lookup, with the key's hash already computed by the caller.
 * hash must be what the table's hash function returns for key (for example
 * the NIC's RSS hash when the table's config uses the same Toeplitz function);
 * another value makes present keys look absent, nothing worse.
 */
int inc_flow_lookup_hashed(struct inc_flow_table *t, const struct inc_flow_key *key,
                           uint32_t hash);

/**
 * Looks up n keys (a receive burst), with the same answers as n calls of
 * inc_flow_lookup. Keys go in groups of 32: all hashed and their index lines
 * prefetched, then every line scanned and its entry prefetched, then the keys
 * compared, so that the cache and TLB misses of a group overlap instead of
 * following one another (see docs/lockfree.md for the figures).
 * Thread, RCU: as inc_flow_lookup.
 * Ownership: keys and owners are the caller's; owners has room for n.
 * Returns: how many keys were found (0..n); owners[i] is key i's owner or
 *   -ENOENT.
 */
unsigned inc_flow_lookup_burst(struct inc_flow_table *t, const struct inc_flow_key *keys,
                               unsigned n, int *owners);

/**
 * The owner core of key from the cds_lfht alone, bypassing the lookup index:
 * the authoritative answer, at the cost of cds_lfht's chain of dependent
 * loads. For validation and benchmarks; the packet path uses inc_flow_lookup.
 * Thread, RCU, Returns: as inc_flow_lookup.
 */
int inc_flow_lookup_lfht(struct inc_flow_table *t, const struct inc_flow_key *key);

/** The table's hash of key (its hash function and seed). Thread: any. */
uint32_t inc_flow_table_hash(const struct inc_flow_table *t, const struct inc_flow_key *key);

/**
 * Removes key. Readers that found the entry may still read it until they pass
 * a quiescent state; the entry goes back to the pool of the core that
 * inserted it after a grace period.
 * Thread: worker `core` (any worker may remove any flow), registered, online.
 * RCU: the caller must be an online QSBR reader.
 * Returns: 0; -ENOENT (absent, or removed concurrently by another thread);
 *   -EINVAL (core out of range).
 */
int inc_flow_remove(struct inc_flow_table *t, unsigned core, const struct inc_flow_key *key);

/**
 * Hands core's partly filled retire batch to call_rcu and takes back into
 * core's pool the entries other cores' grace periods returned. Call it once
 * per poll loop (cheap when there is nothing to do).
 * Thread: worker `core`, registered. RCU: none needed.
 * Returns: entries taken back into core's pool.
 */
unsigned inc_flow_reclaim(struct inc_flow_table *t, unsigned core);

/**
 * Resizes the table to buckets (a power of two) and waits until it is done;
 * other threads keep using the table meanwhile.
 * Only for tables created with auto_resize == 0: liburcu 0.13's automatic
 * resize worker waits for the resize lock while it is an online QSBR reader,
 * so a manual resize holding that lock across a grace period would deadlock
 * with it.
 * Thread: control plane, registered (it goes offline while it waits).
 * Blocks: yes (grace periods).
 * Returns: 0; -EINVAL (not a power of two); -EPERM (the table resizes itself).
 */
int inc_flow_resize(struct inc_flow_table *t, unsigned long buckets);

/**
 * Entries in the table, counted by walking it (O(n)).
 * Thread: registered, online. Returns: the count.
 */
unsigned long inc_flow_count(struct inc_flow_table *t);

/** Counters summed over the cores (relaxed snapshot). Thread: any. */
void inc_flow_stats_get(const struct inc_flow_table *t, struct inc_flow_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* INC_FLOW_H */
