# lwIP as a fetched dependency (see cmake/fetch-lwip.sh and upstream-patches/).
#
# At configure time, fetch-lwip.sh downloads (or takes from its cache) Debian's
# lwIP 2.1.3 source, verifies it and makes three trees under
# ${CMAKE_BINARY_DIR}/_lwip: lwip-orig (as released), lwip (plus our patch
# series) and lwip-bad (plus the identity check's negative control).
# A patch that does not apply stops the configuration, naming the patch.

set(INC_LWIP_WORK ${CMAKE_BINARY_DIR}/_lwip)
set(INC_LWIP_CACHE "" CACHE PATH "Where the lwIP tarball is cached (default: ~/.cache/inception)")

file(STRINGS ${CMAKE_SOURCE_DIR}/upstream-patches/series _inc_series REGEX "^[^#]")
set(_inc_patch_files ${CMAKE_SOURCE_DIR}/upstream-patches/series
  ${CMAKE_SOURCE_DIR}/cmake/fetch-lwip.sh
  ${CMAKE_SOURCE_DIR}/tests/identity/behaviour-change.patch)
foreach(p IN LISTS _inc_series)
  list(APPEND _inc_patch_files ${CMAKE_SOURCE_DIR}/upstream-patches/${p})
endforeach()
set_property(DIRECTORY ${CMAKE_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_inc_patch_files})

set(_inc_fetch_args ${INC_LWIP_WORK} ${CMAKE_SOURCE_DIR})
if(INC_LWIP_CACHE)
  list(APPEND _inc_fetch_args ${INC_LWIP_CACHE})
endif()
execute_process(
  COMMAND bash ${CMAKE_SOURCE_DIR}/cmake/fetch-lwip.sh ${_inc_fetch_args}
  RESULT_VARIABLE _inc_fetch_rc)
if(NOT _inc_fetch_rc EQUAL 0)
  message(FATAL_ERROR "Could not prepare lwIP (see the fetch-lwip messages above).")
endif()

set(LWIP_ORIG_DIR ${INC_LWIP_WORK}/lwip-orig)
set(LWIP_DIR ${INC_LWIP_WORK}/lwip)
set(LWIP_BAD_DIR ${INC_LWIP_WORK}/lwip-bad)

# inc_lwip_sources(<out-var> <tree> [API] [UNIT_APPS])
# The compilation units of lwIP's core (core, IPv4, IPv6, Ethernet), optionally
# with the sequential/socket API and the apps lwIP's unit suite tests.
function(inc_lwip_sources out tree)
  cmake_parse_arguments(S "API;UNIT_APPS" "" "" ${ARGN})
  file(GLOB core ${tree}/src/core/*.c)
  file(GLOB core4 ${tree}/src/core/ipv4/*.c)
  file(GLOB core6 ${tree}/src/core/ipv6/*.c)
  set(srcs ${core} ${core4} ${core6} ${tree}/src/netif/ethernet.c)
  if(S_API)
    file(GLOB api ${tree}/src/api/*.c)
    list(APPEND srcs ${api})
  endif()
  if(S_UNIT_APPS)
    list(APPEND srcs ${tree}/src/apps/mdns/mdns.c ${tree}/src/apps/mqtt/mqtt.c)
  endif()
  list(SORT srcs)
  set(${out} ${srcs} PARENT_SCOPE)
endfunction()

# inc_add_lwip_library(<target> TREE <dir> TYPE <STATIC|OBJECT>
#                      CONFIG <include dirs with lwipopts.h and arch/cc.h...>
#                      [DEFINES <defs...>] [OPTIONS <compile options...>]
#                      [API] [UNIT_APPS])
# lwIP is compiled with its own (lax) warnings, never -Werror. __FILE__ is
# mapped to "lwip/..." so that objects from different trees can be compared.
function(inc_add_lwip_library target)
  cmake_parse_arguments(L "API;UNIT_APPS" "TREE;TYPE" "CONFIG;DEFINES;OPTIONS" ${ARGN})
  set(flags)
  if(L_API)
    list(APPEND flags API)
  endif()
  if(L_UNIT_APPS)
    list(APPEND flags UNIT_APPS)
  endif()
  inc_lwip_sources(srcs ${L_TREE} ${flags})
  add_library(${target} ${L_TYPE} ${srcs})
  target_include_directories(${target} PUBLIC ${L_CONFIG} ${L_TREE}/src/include)
  target_compile_definitions(${target} PUBLIC ${L_DEFINES})
  target_compile_options(${target} PRIVATE -fmacro-prefix-map=${L_TREE}/=lwip/ ${L_OPTIONS})
  if(INC_SANITIZE STREQUAL "address")
    # lwIP 2.1.3's tcp_parseopt() shifts a promoted u8_t left by 24 into the
    # sign bit (timestamp option). ISO C leaves that undefined; GCC and clang
    # define it ("GCC does not use the latitude given in C99 and C11 only to
    # treat certain aspects of signed '<<' as undefined", GCC manual, Integers
    # implementation). Only that check is off, for lwIP's own files only.
    target_compile_options(${target} PRIVATE -fno-sanitize=shift-base)
  endif()
  set_target_properties(${target} PROPERTIES C_STANDARD 99 C_EXTENSIONS ON)
endfunction()
