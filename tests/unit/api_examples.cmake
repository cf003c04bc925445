# tools/examples/ (inc-echo, inc-httpd, inc-client), run by
# api_examples_test.sh:
#   api_examples_wire  each example alone over the software RSS wire (its
#                      built-in peer verifies every byte) and bad flags; in
#                      the plain and the ASan+UBSan builds
#   api_examples_tap   the examples on a multi_queue tap in a network
#                      namespace the test creates and removes (root; skipped
#                      otherwise), against Linux's curl, wget and nc and
#                      python3's HTTP and echo servers, IPv4 and IPv6; in the
#                      plain build
# Not under TSan (see stack.cmake: DPDK's rings hand mbufs between threads
# unseen). tools/ is added after tests/: the registration waits for the end
# of the top-level directory, when the example targets exist.
function(_inc_api_examples_tests)
  if(TARGET inc-echo AND TARGET inc-httpd AND TARGET inc-client AND NOT INC_SANITIZE STREQUAL "thread")
    set(_dir $<TARGET_FILE_DIR:inc-httpd>)
    set(_script ${CMAKE_SOURCE_DIR}/tests/unit/api_examples_test.sh)
    inc_add_test(NAME api_examples_wire LABELS unit stack examples TIMEOUT 300
      COMMAND ${_script} wire ${_dir})
    inc_add_test(NAME api_examples_tap LABELS unit stack examples TIMEOUT 400 PLAIN_ONLY
      COMMAND ${_script} tap ${_dir}
      PROPERTIES SKIP_RETURN_CODE 77)
  endif()
endfunction()
cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR} CALL _inc_api_examples_tests)
