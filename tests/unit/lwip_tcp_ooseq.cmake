# lwIP's receiver with out-of-order segments beyond the receive window
# (upstream-patches/0006): crafted segments into one instance.
inc_add_gtest(lwip_tcp_ooseq_test lwip_tcp_ooseq_test.cc lwip_tcp_peer.cc)
