# Compiler flags for Inception's own code, and the sanitizer variant of a build.
#
# INC_SANITIZE: "" (plain), "address" (ASan + UBSan) or "thread" (TSan).
# The top-level build makes the two sanitizer builds itself
# (InceptionSanitizerBuilds.cmake); set it by hand only to debug one of them.

set(INC_SANITIZE "" CACHE STRING "Sanitizer of this build: empty, address or thread")
set_property(CACHE INC_SANITIZE PROPERTY STRINGS "" address thread)

# Warnings are errors for our code (STYLE 12); lwIP's own sources get
# inc_lwip_warnings only.
set(INC_C_WARNINGS -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes)
set(INC_CXX_WARNINGS -Wall -Wextra -Werror -Wshadow)

set(INC_SANITIZE_FLAGS "")
if(INC_SANITIZE STREQUAL "address")
  set(INC_SANITIZE_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  set(INC_TEST_SUFFIX ".asan")
elseif(INC_SANITIZE STREQUAL "thread")
  set(INC_SANITIZE_FLAGS -fsanitize=thread -fno-omit-frame-pointer)
  set(INC_TEST_SUFFIX ".tsan")
elseif(INC_SANITIZE STREQUAL "")
  set(INC_TEST_SUFFIX "")
else()
  message(FATAL_ERROR "INC_SANITIZE must be empty, 'address' or 'thread', not '${INC_SANITIZE}'")
endif()

if(INC_SANITIZE_FLAGS)
  # Everything in a sanitizer build is instrumented, lwIP included.
  add_compile_options(${INC_SANITIZE_FLAGS})
  add_link_options(${INC_SANITIZE_FLAGS})
endif()

# inc_target_warnings(<target>): our warning set on one of our targets.
function(inc_target_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:C>:${INC_C_WARNINGS}>
    $<$<COMPILE_LANGUAGE:CXX>:${INC_CXX_WARNINGS}>)
endfunction()
