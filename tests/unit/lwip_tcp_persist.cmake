# lwIP's persist timer when the window opens but the head cannot be split
# (upstream-patches/0007): crafted segments into one instance.
inc_add_gtest(lwip_tcp_persist_test lwip_tcp_persist_test.cc lwip_tcp_peer.cc)
