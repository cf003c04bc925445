/*
 * craft: hand-made TCP/IPv4 packets for stack tests (C, lwIP's own headers
 * and checksum helpers). Everything runs on a worker, with its lwIP instance.
 */
#ifndef INC_TEST_CRAFT_H
#define INC_TEST_CRAFT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pbuf;
struct netif;

/* An IPv4 TCP segment without payload (addresses network order, ports host
 * order), checksums right, in a PBUF_RAM pbuf whose payload is the IP header.
 * Returns NULL when out of memory. */
struct pbuf *craft_tcp4(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint8_t flags, uint32_t seq,
                        uint32_t ack);

/* The same with an Ethernet header from netif's MAC to dst_mac, sent through
 * the netif's driver (linkoutput). Returns 0 or -1. */
int craft_send_tcp4_frame(struct netif *netif, const uint8_t dst_mac[6], uint32_t src, uint16_t sport,
                          uint32_t dst, uint16_t dport, uint8_t flags, uint32_t seq);

#ifdef __cplusplus
}
#endif

#endif
