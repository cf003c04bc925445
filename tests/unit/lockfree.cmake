# Tests of lockfree/ (issue 3): GoogleTest suites tests/unit/lockfree_*_test.cc
# and C validators tests/unit/lockfree/validate_*.c in the style of
# ConcurrencyKit's regressions, both driven by the stress drivers in
# tests/unit/lockfree/stress_*.c.
#
# Sizes: the multi-thread drivers divide their message/key/allocation counts
# by $INC_LF_SCALE, set here for the TSan build (TSan runs these validators
# about 3-10x slower; on 2 cores every extra thread is time-sliced). The
# ASan build runs the full sizes.

if(NOT TARGET inc_lockfree)
  return()
endif()

set(_lf_dir ${CMAKE_CURRENT_SOURCE_DIR}/lockfree)

if(INC_SANITIZE STREQUAL "thread")
  set(_lf_scale 4)
elseif(INC_SANITIZE STREQUAL "address")
  set(_lf_scale 1)
else()
  set(_lf_scale 1)
endif()

# TSan: suppressions for ConcurrencyKit-internal frames only (see the file).
set(_lf_env "INC_LF_SCALE=${_lf_scale}")
if(INC_SANITIZE STREQUAL "thread")
  list(APPEND _lf_env
    "TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=${_lf_dir}/tsan.supp")
endif()

find_package(PkgConfig REQUIRED)
pkg_check_modules(INC_LF_TEST_CK REQUIRED IMPORTED_TARGET ck)

add_library(inc_lf_stress STATIC
  ${_lf_dir}/ring_interop.c
  ${_lf_dir}/stress_common.c
  ${_lf_dir}/stress_chan.c
  ${_lf_dir}/stress_flow.c
  ${_lf_dir}/stress_pool.c)
target_include_directories(inc_lf_stress PUBLIC ${_lf_dir})
# ring_interop.c reaches into lockfree's private ring_priv.h (and ck_ring.h).
target_include_directories(inc_lf_stress PRIVATE ${PROJECT_SOURCE_DIR}/lockfree)
target_link_libraries(inc_lf_stress PUBLIC inc_lockfree Threads::Threads PRIVATE PkgConfig::INC_LF_TEST_CK)
inc_target_warnings(inc_lf_stress)

# inc_lf_test(<name> COMMAND ...): a lockfree test with the scale environment.
function(inc_lf_test name)
  inc_add_test(NAME ${name} ${ARGN} LABELS unit lockfree TIMEOUT 900)
  set_property(TEST ${name}${INC_TEST_SUFFIX} APPEND PROPERTY ENVIRONMENT ${_lf_env})
endfunction()

# ---- C validators -----------------------------------------------------------
foreach(v chan flow pool)
  add_executable(lockfree_validate_${v} ${_lf_dir}/validate_${v}.c)
  target_link_libraries(lockfree_validate_${v} PRIVATE inc_lf_stress)
  inc_target_warnings(lockfree_validate_${v})
endforeach()

# Channels: workers x (workers - 1) links; millions of messages in the plain
# build; small rings so that senders meet full rings all the time.
inc_lf_test(lockfree_validate_mesh_2workers_10M_fifo
  COMMAND lockfree_validate_chan mesh 2 5000000 256 32 1)
inc_lf_test(lockfree_validate_mesh_4workers_batch1_fifo
  COMMAND lockfree_validate_chan mesh 4 400000 1024 1 0)
inc_lf_test(lockfree_validate_mesh_8workers_smallrings_fifo
  COMMAND lockfree_validate_chan mesh 8 100000 16 32 1)
inc_lf_test(lockfree_validate_lanes_2workers_6apps_complete_once
  COMMAND lockfree_validate_chan lanes 2 6 1000000 64 16 0)
inc_lf_test(lockfree_validate_lanes_4workers_4apps_sleeping_apps_wake
  COMMAND lockfree_validate_chan lanes 4 4 200000 32 8 1)
# Flow table: writers churn, readers look up, and the table resizes: forced
# by a resizer thread, or by itself as the churn grows and shrinks it.
inc_lf_test(lockfree_validate_flow_4writers_2readers_resizing
  COMMAND lockfree_validate_flow 4 2 20000 4000 40 1 0)
inc_lf_test(lockfree_validate_flow_3writers_3readers_autoresize
  COMMAND lockfree_validate_flow 3 3 20000 6000 30 0 1)
inc_lf_test(lockfree_validate_flow_8writers_autoresize
  COMMAND lockfree_validate_flow 8 0 2000 4000 32 0 1)
# The lookup index: burst readers, keys all writers insert and remove at once,
# and a narrow hash (full index lines, equal hashes of unequal keys).
inc_lf_test(lockfree_validate_flow_4writers_2burstreaders_contested_resizing
  COMMAND lockfree_validate_flow 4 2 20000 4000 20 1 0 32 256 0)
inc_lf_test(lockfree_validate_flow_3writers_3burstreaders_contested_narrowhash_autoresize
  COMMAND lockfree_validate_flow 3 3 5000 2000 10 0 1 32 128 1)
# Pools: the owner allocates, remote threads free.
inc_lf_test(lockfree_validate_pool_3remotes
  COMMAND lockfree_validate_pool 3 512 4000000)
inc_lf_test(lockfree_validate_pool_7remotes_tiny_pool
  COMMAND lockfree_validate_pool 7 64 2000000)

# ---- GoogleTest suites ------------------------------------------------------
# Every public header compiles alone, as C11 and as C++17 (STYLE 3): one
# generated translation unit per header and language.
set(_lf_headers chan.h flow.h listen.h lockfree_opts.h pool.h rcu.h)
set(_lf_hdr_srcs)
foreach(h IN LISTS _lf_headers)
  string(REPLACE "." "_" hid ${h})
  foreach(lang c cc)
    set(f ${CMAKE_CURRENT_BINARY_DIR}/lockfree_hdr/${hid}_alone.${lang})
    file(GENERATE OUTPUT ${f} CONTENT
      "/* Generated: ${h} alone (and twice: include guard). */\n#include \"inception/${h}\"\n#include \"inception/${h}\"\ntypedef int inc_lf_alone_${hid};\n")
    list(APPEND _lf_hdr_srcs ${f})
  endforeach()
endforeach()
add_library(inc_lf_headers_alone OBJECT ${_lf_hdr_srcs})
target_include_directories(inc_lf_headers_alone PRIVATE ${PROJECT_SOURCE_DIR}/include)
target_compile_options(inc_lf_headers_alone PRIVATE
  $<$<COMPILE_LANGUAGE:C>:-std=c11 -pedantic-errors ${INC_C_WARNINGS}>
  $<$<COMPILE_LANGUAGE:CXX>:-std=c++17 -pedantic-errors ${INC_CXX_WARNINGS}>)

set(_lf_gtests chan flow listen pool headers)
foreach(t IN LISTS _lf_gtests)
  set(srcs ${CMAKE_CURRENT_SOURCE_DIR}/lockfree_${t}_test.cc)
  if(t STREQUAL "headers")
    list(APPEND srcs ${_lf_dir}/headers_layout.c $<TARGET_OBJECTS:inc_lf_headers_alone>)
  endif()
  inc_add_gtest(lockfree_${t}_test ${srcs})
  target_link_libraries(lockfree_${t}_test PRIVATE inc_lf_stress)
  set_property(TEST lockfree_${t}_test${INC_TEST_SUFFIX} APPEND PROPERTY LABELS lockfree)
  set_property(TEST lockfree_${t}_test${INC_TEST_SUFFIX} APPEND PROPERTY ENVIRONMENT ${_lf_env})
endforeach()
# The C layout twin of the headers test is compiled as strict C11.
set_source_files_properties(${_lf_dir}/headers_layout.c PROPERTIES COMPILE_OPTIONS "-std=c11;-pedantic-errors")
