# api/'s per-core raw API (include/inception/raw.h).

# The public header alone, as C11 and C++17 (every build).
if(TARGET inc_api)
  inc_add_gtest(api_raw_headers_test api_raw_headers_test.cc api_raw_headers_c.c)
  target_include_directories(api_raw_headers_test PRIVATE ${CMAKE_SOURCE_DIR}/include)
endif()

# Every call on real stacks over the software RSS wire. Registered at the end
# of this directory (the stack test support is defined by stack.cmake, which
# sorts after this file). Not in the TSan build, like the stack tests: mbufs
# cross threads inside DPDK's rings and mempools, which TSan cannot see.
function(_inc_api_raw_tests)
  if(TARGET inc_api AND TARGET inc_stack_test_support AND NOT INC_SANITIZE STREQUAL "thread")
    inc_add_gtest(api_raw_test api_raw_test.cc)
    target_link_libraries(api_raw_test PRIVATE inc_api inc_stack_test_support)
    set_property(TEST api_raw_test${INC_TEST_SUFFIX} APPEND PROPERTY LABELS api)
  endif()
endfunction()
cmake_language(DEFER CALL _inc_api_raw_tests)
