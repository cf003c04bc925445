# lwIP's bound on pcbs in TIME-WAIT (upstream-patches/0008,
# TCP_TIME_WAIT_MAX_PCBS): crafted segments into one instance.
inc_add_gtest(lwip_tcp_time_wait_test lwip_tcp_time_wait_test.cc lwip_tcp_peer.cc)
