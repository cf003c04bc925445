/*
 * Second configuration for the state audit: the options that select the
 * *other* variants of lwIP's state (a counter instead of random DNS ids, a
 * static DNS host list, heap-backed pools, a global DHCP xid, the heap freed
 * from other contexts, ARP address hints in the netif).
 */
#ifndef INC_IDENTITY_VARIANT_LWIPOPTS_H
#define INC_IDENTITY_VARIANT_LWIPOPTS_H
#include "../maximal/lwipopts.h"
#undef LWIP_DNS_SECURE
#define LWIP_DNS_SECURE 0
#undef DNS_LOCAL_HOSTLIST_IS_DYNAMIC
#define DNS_LOCAL_HOSTLIST_IS_DYNAMIC 0
#define DNS_LOCAL_HOSTLIST_INIT {DNS_LOCAL_HOSTLIST_ELEM("host", IPADDR4_INIT_BYTES(198, 18, 0, 1))}
/* never written: keep it in read-only memory */
#define DNS_LOCAL_HOSTLIST_STORAGE_PRE static const
#define LWIP_ALLOW_MEM_FREE_FROM_OTHER_CONTEXT 1
#define MEMP_MEM_MALLOC 1
#define LWIP_NETIF_HWADDRHINT 1
#define DHCP_GLOBAL_XID 0x1234
#endif
