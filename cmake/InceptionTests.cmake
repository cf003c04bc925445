# Test registration shared by every module.
#
# inc_add_test(NAME <name> COMMAND <cmd...> [TIMEOUT <s>] [LABELS <l...>]
#              [PLAIN_ONLY] [PROPERTIES <prop value...>])
#
# In a sanitizer build the name gets ".asan"/".tsan" appended; PLAIN_ONLY tests
# (build-tree checks such as the identity check) are registered in the plain
# build only. TIMEOUT only catches hangs; tests assert behaviour, not time.

function(inc_add_test)
  cmake_parse_arguments(T "PLAIN_ONLY" "NAME;TIMEOUT" "COMMAND;LABELS;PROPERTIES" ${ARGN})
  if(T_PLAIN_ONLY AND INC_SANITIZE)
    return()
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set(name "${T_NAME}${INC_TEST_SUFFIX}")
  add_test(NAME ${name} COMMAND ${T_COMMAND})
  set(labels ${T_LABELS})
  if(INC_SANITIZE)
    list(APPEND labels ${INC_SANITIZE})
  else()
    list(APPEND labels plain)
  endif()
  set_tests_properties(${name} PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS "${labels}" ${T_PROPERTIES})
  if(INC_SANITIZE STREQUAL "address")
    set_property(TEST ${name} APPEND PROPERTY ENVIRONMENT
      "ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1"
      "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
  elseif(INC_SANITIZE STREQUAL "thread")
    set_property(TEST ${name} APPEND PROPERTY ENVIRONMENT
      "TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1")
  endif()
endfunction()
