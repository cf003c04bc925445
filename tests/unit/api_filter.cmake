# api/filter: packet filter callbacks.
#   api_filter_table_test  the table alone (matching, conflicts, dispatch):
#                          no DPDK, no lwIP, in every build (TSan included)
#   api_filter_test        filters on running stacks over the software RSS
#                          wire (UDP and TCP accepts, IPv4 and IPv6); not in
#                          the TSan build, like the other stack tests
#                          (stack.cmake says why)
inc_add_gtest(api_filter_table_test api_filter_table_test.cc ${CMAKE_SOURCE_DIR}/api/filter_table.c)
target_include_directories(api_filter_table_test PRIVATE ${CMAKE_SOURCE_DIR}/api ${CMAKE_SOURCE_DIR}/include)

# The stack test needs inc_stack_test_support, which stack.cmake (included
# after this file) defines: register it at the end of this directory.
function(_inc_api_filter_stack_test)
  if(TARGET inc_api AND TARGET inc_stack_test_support AND NOT INC_SANITIZE STREQUAL "thread")
    inc_add_gtest(api_filter_test api_filter_test.cc api_filter_ops.c)
    target_link_libraries(api_filter_test PRIVATE inc_api inc_stack_test_support)
    target_include_directories(api_filter_test PRIVATE ${CMAKE_SOURCE_DIR}/api)
    set_property(TEST api_filter_test${INC_TEST_SUFFIX} APPEND PROPERTY LABELS stack)
  endif()
endfunction()
cmake_language(DEFER CALL _inc_api_filter_stack_test)
