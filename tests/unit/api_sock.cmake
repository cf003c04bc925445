# api/conn* and api/sock*: the sequential and sockets-style APIs on two real
# stacks over the software RSS wire (not in the TSan build, like the other
# stack tests: stack.cmake says why); and their headers alone, as C and C++.
function(_inc_api_sock_tests)
  if(TARGET inc_api AND TARGET inc_stack_test_support AND NOT INC_SANITIZE STREQUAL "thread")
    inc_add_gtest(api_sock_test api_sock_test.cc api/api_test_ops.c)
    target_link_libraries(api_sock_test PRIVATE inc_api inc_stack_test_support)
    target_include_directories(api_sock_test PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/api ${CMAKE_SOURCE_DIR}/stack)
    set_property(TEST api_sock_test${INC_TEST_SUFFIX} APPEND PROPERTY LABELS stack)
  endif()
endfunction()
cmake_language(DEFER CALL _inc_api_sock_tests)

inc_add_gtest(api_headers_test api/api_headers_test.cc api/api_headers_c.c)
target_include_directories(api_headers_test PRIVATE ${CMAKE_SOURCE_DIR}/include)
target_link_libraries(api_headers_test PRIVATE inc_api)
