# lwIP's retransmission timeout after a fast retransmission that a zero
# window held (upstream-patches/0009): crafted segments into one instance.
inc_add_gtest(lwip_tcp_rto_order_test lwip_tcp_rto_order_test.cc lwip_tcp_peer.cc)
