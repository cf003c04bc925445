# Tests of drivers/ (issue 4). Support code is in tests/unit/drivers/.
#
# Sanitizers. DPDK's libraries are not instrumented:
#  - ThreadSanitizer cannot see the synchronisation inside DPDK's rings and
#    mempools, so a test in which mbufs pass between threads that run freely
#    reports races that are not there. Such tests are not registered in the
#    TSan build (NO_TSAN below). The same code paths also run under TSan in
#    lock-step tests (drvtest::Worker::call()), where every hand-off between
#    threads goes through a mutex TSan sees.
#  - ASan and UBSan work with the EAL in --no-huge mode: every test runs there.
#  - Pure-C logic (Toeplitz, fault injection, pcapng) is tested without an
#    EAL under every sanitizer.

if(NOT TARGET inc_drivers)
  return()
endif()

set(_drv_dir ${CMAKE_CURRENT_SOURCE_DIR}/drivers)

add_library(inc_drv_frames STATIC ${_drv_dir}/frames.cc)
target_include_directories(inc_drv_frames PUBLIC ${_drv_dir})
inc_target_warnings(inc_drv_frames)

add_library(inc_drv_test_support STATIC ${_drv_dir}/drv_env.cc ${_drv_dir}/tcpio.c ${_drv_dir}/wire_pair.cc ${_drv_dir}/zc_peer.c ${_drv_dir}/netns.cc)
target_include_directories(inc_drv_test_support PUBLIC ${_drv_dir} ${CMAKE_SOURCE_DIR}/drivers)
target_compile_definitions(inc_drv_test_support PUBLIC LWIP_DONT_PROVIDE_BYTEORDER_FUNCTIONS)
target_link_libraries(inc_drv_test_support PUBLIC inc_drivers inc_drv_frames inc_lwip inc_lwip_hooks Threads::Threads)
inc_target_warnings(inc_drv_test_support)

# inc_drv_gtest(<name> [NO_TSAN] [ENV <k=v>...] SOURCES <srcs...> LIBS <libs...>)
function(inc_drv_gtest name)
  cmake_parse_arguments(D "NO_TSAN" "" "SOURCES;LIBS;ENV" ${ARGN})
  if(D_NO_TSAN AND INC_SANITIZE STREQUAL "thread")
    return()
  endif()
  inc_add_gtest(${name} ${D_SOURCES})
  target_link_libraries(${name} PRIVATE ${D_LIBS})
  set_property(TEST ${name}${INC_TEST_SUFFIX} APPEND PROPERTY LABELS drivers)
  if(D_ENV)
    set_property(TEST ${name}${INC_TEST_SUFFIX} APPEND PROPERTY ENVIRONMENT ${D_ENV})
  endif()
  if(INC_SANITIZE STREQUAL "thread")
    set_property(TEST ${name}${INC_TEST_SUFFIX} APPEND PROPERTY ENVIRONMENT
      "TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=${_drv_dir}/tsan.supp")
  endif()
endfunction()

# ---- every public header compiles alone, as C11 and as C++17 ---------------
set(_drv_headers drv_err.h drivers_opt.h eal.h netif.h netif_counters.h pcap.h port.h rss.h wire.h)
set(_hdr_srcs ${CMAKE_CURRENT_BINARY_DIR}/drv_hdr/main.cc)
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/drv_hdr/main.cc.in "")
set(_hdr_main "// generated: each header alone, in C and C++\n#include <gtest/gtest.h>\n")
set(_hdr_body "")
foreach(h IN LISTS _drv_headers)
  string(REPLACE "." "_" base ${h})
  set(c ${CMAKE_CURRENT_BINARY_DIR}/drv_hdr/${base}_c.c)
  set(cc ${CMAKE_CURRENT_BINARY_DIR}/drv_hdr/${base}_cc.cc)
  file(CONFIGURE OUTPUT ${c} CONTENT
    "#include \"inception/${h}\"\nint inc_drvhdr_${base}_c(void);\nint inc_drvhdr_${base}_c(void) { return (int)sizeof(int); }\n")
  file(CONFIGURE OUTPUT ${cc} CONTENT
    "#include \"inception/${h}\"\nint inc_drvhdr_${base}_cc();\nint inc_drvhdr_${base}_cc() { return (int)sizeof(int); }\n")
  set_source_files_properties(${c} PROPERTIES COMPILE_OPTIONS "-std=c11")
  set_source_files_properties(${cc} PROPERTIES COMPILE_OPTIONS "-std=c++17")
  list(APPEND _hdr_srcs ${c} ${cc})
  string(APPEND _hdr_main "extern \"C\" int inc_drvhdr_${base}_c(void);\nint inc_drvhdr_${base}_cc();\n")
  string(APPEND _hdr_body "  EXPECT_EQ(inc_drvhdr_${base}_c(), 4);\n  EXPECT_EQ(inc_drvhdr_${base}_cc(), 4);\n")
endforeach()
file(CONFIGURE OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/drv_hdr/main.cc CONTENT
  "${_hdr_main}\nTEST(DriversHeaders, EachPublicHeaderCompilesAloneAsC11AndCxx17) {\n${_hdr_body}}\n")
inc_drv_gtest(drivers_headers_test SOURCES ${_hdr_srcs} LIBS inc_drivers)

# ---- pure C, no EAL -----------------------------------------------------------
inc_drv_gtest(drivers_rss_test SOURCES drivers_rss_test.cc LIBS inc_drivers_core inc_drv_frames inc_dpdk)
inc_drv_gtest(drivers_fault_test SOURCES drivers_fault_test.cc LIBS inc_drivers_core)
target_include_directories(drivers_fault_test PRIVATE ${CMAKE_SOURCE_DIR}/drivers)
inc_drv_gtest(drivers_cksum_test SOURCES drivers_cksum_test.cc LIBS inc_drivers_core inc_dpdk)
target_include_directories(drivers_cksum_test PRIVATE ${CMAKE_SOURCE_DIR}/drivers)
target_include_directories(drivers_fault_test PRIVATE ${CMAKE_SOURCE_DIR}/drivers)
inc_drv_gtest(drivers_pcap_test SOURCES drivers_pcap_test.cc LIBS inc_drivers_core inc_drv_frames)

# ---- with an EAL ---------------------------------------------------------------
inc_drv_gtest(drivers_wire_test SOURCES drivers_wire_test.cc LIBS inc_drv_test_support)
inc_drv_gtest(drivers_zerocopy_test SOURCES drivers_zerocopy_test.cc LIBS inc_drv_test_support)
# the EAL starts once per process: each case forks (the test itself never starts it)
inc_drv_gtest(drivers_eal_test SOURCES drivers_eal_test.cc LIBS inc_drivers inc_dpdk)
inc_drv_gtest(drivers_badinput_test SOURCES drivers_badinput_test.cc LIBS inc_drv_test_support)
inc_drv_gtest(drivers_gro_test SOURCES drivers_gro_test.cc LIBS inc_drv_test_support)
# Linux as the peer over a tap in a network namespace (root; cleans up after
# itself, and removes namespaces of earlier runs that died). Not under TSan:
# there, frames from the kernel reach the free-running workers in batches
# seconds late (seen with the test's own capture files), so ping and TCP
# time out; the run under TSan found no race in the driver, and the same
# driver code runs under TSan in the lock-step wire tests.
inc_drv_gtest(drivers_tap_test NO_TSAN SOURCES drivers_tap_test.cc LIBS inc_drv_test_support)
# The wire across processes: the test spawns the peer (a helper, not a test).
add_executable(drivers_memif_peer ${_drv_dir}/memif_peer.cc)
target_link_libraries(drivers_memif_peer PRIVATE inc_drv_test_support Threads::Threads)
inc_target_warnings(drivers_memif_peer)
inc_drv_gtest(drivers_memif_test SOURCES drivers_memif_test.cc LIBS inc_drv_test_support)
add_dependencies(drivers_memif_test drivers_memif_peer)
target_compile_definitions(drivers_memif_test PRIVATE DRV_MEMIF_PEER="$<TARGET_FILE:drivers_memif_peer>")
# free-running workers on both ends (not under TSan: mbufs cross threads
# through DPDK's rings, whose synchronisation TSan cannot see)
inc_drv_gtest(drivers_transfer_test NO_TSAN SOURCES drivers_transfer_test.cc LIBS inc_drv_test_support)
