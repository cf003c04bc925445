/*
 * Compile-time defaults of Inception's DPDK drivers (drivers/), in the manner
 * of lwIP's opt.h: every value can be overridden with -D. Run-time settings
 * (queues, pool sizes, offloads to refuse, faults) are in the config structs
 * of eal.h, port.h, wire.h and netif.h; a field left 0 there takes the
 * default from here.
 */
#ifndef INC_DRIVERS_OPT_H
#define INC_DRIVERS_OPT_H

/** EAL arguments used when the application passes none: a machine without
 * hugepages or PCI devices (memory from anonymous pages, no shared config
 * files so that several processes can run side by side, no telemetry
 * socket). Add --lcores=(0-3)@(0,1) to run more lcores than cores. */
#ifndef INC_EAL_DEFAULT_ARGS
#define INC_EAL_DEFAULT_ARGS "--no-huge", "-m", "512", "--no-pci", "--no-shconf", "--no-telemetry"
#endif

/** Most RX/TX queue pairs a port gets (one per worker core). */
#ifndef INC_DRV_MAX_QUEUES
#define INC_DRV_MAX_QUEUES 64
#endif

/** Descriptors per RX and per TX queue. */
#ifndef INC_DRV_RX_DESC
#define INC_DRV_RX_DESC 1024
#endif
#ifndef INC_DRV_TX_DESC
#define INC_DRV_TX_DESC 1024
#endif

/** Packets per rx_burst/tx_burst call, and the size of a netif's TX batch. */
#ifndef INC_DRV_BURST
#define INC_DRV_BURST 32
#endif

/** Per core: mbufs of the main pool (RX buffers, lwIP's PBUF_RAM/PBUF_POOL
 * buffers, header copies), their data room, and the per-lcore cache. */
#ifndef INC_DRV_MBUFS
#define INC_DRV_MBUFS 8191
#endif
#ifndef INC_DRV_MBUF_DATAROOM
#define INC_DRV_MBUF_DATAROOM (2048 + 128)
#endif
#ifndef INC_DRV_MBUF_CACHE
#define INC_DRV_MBUF_CACHE 256
#endif

/** Per core: indirect mbufs (no data room) that reference payload of other
 * mbufs: zero-copy TX of a part of a buffer, retransmission while the
 * previous transmission is still held, GSO segments, wire duplicates. */
#ifndef INC_DRV_CLONES
#define INC_DRV_CLONES 8191
#endif

/** Per core: large mbufs (data room 65535) for TCP segments larger than the
 * MSS, built when the port segments TCP (TSO or GSO). 0: no large segments. */
#ifndef INC_DRV_LARGE_MBUFS
#define INC_DRV_LARGE_MBUFS 63
#endif

/** Redirection table entries the software wire uses, and the RSS key length
 * asked of a PMD that does not say which it takes. */
#ifndef INC_DRV_RETA_SIZE
#define INC_DRV_RETA_SIZE 128
#endif

/** Ethernet MTU of a port. */
#ifndef INC_DRV_MTU
#define INC_DRV_MTU 1500
#endif

/** Software wire: frames per ring (a power of two), and how many frames one
 * direction may hold for delay and reordering. */
#ifndef INC_DRV_WIRE_RING
#define INC_DRV_WIRE_RING 4096
#endif
#ifndef INC_DRV_WIRE_MAX_HELD
#define INC_DRV_WIRE_MAX_HELD 4096
#endif
/** A frame waiting in the reorder window for later frames is let go after
 * this many microseconds without them (the wire never holds a frame for
 * ever). */
#ifndef INC_DRV_WIRE_REORDER_HOLD_US
#define INC_DRV_WIRE_REORDER_HOLD_US 200
#endif

/** pcap capture: bytes of a packet kept (0: all), and the write buffer of
 * one capture file. */
#ifndef INC_DRV_PCAP_SNAPLEN
#define INC_DRV_PCAP_SNAPLEN 65535
#endif
#ifndef INC_DRV_PCAP_BUF
#define INC_DRV_PCAP_BUF (64 * 1024)
#endif

/** Receive coalescing in software (rte_gro) when the PMD has no LRO: flows
 * and packets per flow of one burst. */
#ifndef INC_DRV_GRO_FLOWS
#define INC_DRV_GRO_FLOWS 16
#endif
#ifndef INC_DRV_GRO_ITEMS
#define INC_DRV_GRO_ITEMS 32
#endif

#endif /* INC_DRIVERS_OPT_H */
