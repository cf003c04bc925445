# stack/ tests: steering's classifier (plus its fuzz target, run by a seeded
# driver in every build, so ASan/UBSan check it too).
inc_add_gtest(stack_classify_test stack_classify_test.cc)
target_link_libraries(stack_classify_test PRIVATE inc_classify)
target_include_directories(stack_classify_test PRIVATE ${CMAKE_SOURCE_DIR}/stack)

add_executable(fuzz_classify ${CMAKE_SOURCE_DIR}/tests/fuzz/classify_fuzz.c
                             ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_driver.c)
target_link_libraries(fuzz_classify PRIVATE inc_classify)
target_include_directories(fuzz_classify PRIVATE ${CMAKE_SOURCE_DIR}/stack)
inc_target_warnings(fuzz_classify)
inc_add_test(NAME fuzz.classify COMMAND fuzz_classify 300000 1 LABELS fuzz TIMEOUT 300)

# Public headers alone, as C11 and C++17.
if(TARGET inc_stack)
  inc_add_gtest(stack_headers_test stack_headers_test.cc stack/stack_headers_c.c)
  target_include_directories(stack_headers_test PRIVATE ${CMAKE_SOURCE_DIR}/include)
endif()

# The runtime and steering over the software RSS wire. Not in the TSan build:
# mbufs cross threads inside DPDK's rings and mempools, whose synchronisation
# ThreadSanitizer cannot see (DPDK is not instrumented), see drivers.cmake.
if(TARGET inc_stack AND TARGET inc_drv_test_support AND NOT INC_SANITIZE STREQUAL "thread")
  add_library(inc_stack_test_support STATIC stack/sxfer.c stack/stack_env.cc stack/craft.c stack/stack_ops.c
    stack/stack_ops6.c)
  target_include_directories(inc_stack_test_support PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/stack
    ${CMAKE_SOURCE_DIR}/stack)
  target_link_libraries(inc_stack_test_support PUBLIC inc_stack inc_test_support inc_drv_test_support)
  inc_target_warnings(inc_stack_test_support)
  inc_add_gtest(stack_steering_test stack_steering_test.cc)
  target_link_libraries(stack_steering_test PRIVATE inc_stack_test_support inc_drv_test_support)
  set_property(TEST stack_steering_test${INC_TEST_SUFFIX} APPEND PROPERTY LABELS stack)

  inc_add_gtest(stack_lifecycle_test stack_lifecycle_test.cc)
  target_link_libraries(stack_lifecycle_test PRIVATE inc_stack_test_support)
  set_property(TEST stack_lifecycle_test${INC_TEST_SUFFIX} APPEND PROPERTY LABELS stack)

  # Linux's TCP as the peer, over a multi-queue tap in a namespace (root).
  add_executable(linux_peer stack/linux_peer.c)
  target_include_directories(linux_peer PRIVATE support)
  inc_target_warnings(linux_peer)
  inc_add_gtest(stack_tap_test stack_tap_test.cc)
  target_link_libraries(stack_tap_test PRIVATE inc_stack_test_support)
  target_compile_definitions(stack_tap_test PRIVATE INC_LINUX_PEER="$<TARGET_FILE:linux_peer>")
  add_dependencies(stack_tap_test linux_peer)
  set_property(TEST stack_tap_test${INC_TEST_SUFFIX} APPEND PROPERTY LABELS stack)

  # IPv6: addresses and router, steering of segments, fragments and ICMPv6
  # errors, neighbour discovery shared by the cores; over the software wire
  # and over tap with Linux's IPv6 TCP as the peer.
  inc_add_gtest(stack_ipv6_test stack_ipv6_test.cc)
  target_link_libraries(stack_ipv6_test PRIVATE inc_stack_test_support inc_drv_test_support)
  target_compile_definitions(stack_ipv6_test PRIVATE INC_LINUX_PEER="$<TARGET_FILE:linux_peer>")
  add_dependencies(stack_ipv6_test linux_peer)
  set_property(TEST stack_ipv6_test${INC_TEST_SUFFIX} APPEND PROPERTY LABELS stack)
endif()
