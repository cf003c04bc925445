# The sanitizer builds: the plain build also configures and builds the whole
# tree twice more, with ASan+UBSan (build/asan) and with TSan (build/tsan), and
# makes ctest in the plain build run their tests too, so one ctest run shows
# every test of all three builds (names end in .asan / .tsan).

option(INC_SANITIZER_BUILDS "Also build and test the tree with ASan+UBSan and with TSan" ON)

if(INC_SANITIZE OR NOT INC_SANITIZER_BUILDS)
  return()
endif()

include(ExternalProject)

set(_ctest_include "")
foreach(san address thread)
  if(san STREQUAL "address")
    set(dir asan)
  else()
    set(dir tsan)
  endif()
  set(bin ${CMAKE_BINARY_DIR}/${dir})
  ExternalProject_Add(inception_${dir}
    SOURCE_DIR ${CMAKE_SOURCE_DIR}
    BINARY_DIR ${bin}
    CMAKE_ARGS
      -DINC_SANITIZE=${san}
      -DINC_SANITIZER_BUILDS=OFF
      -DCMAKE_BUILD_TYPE=RelWithDebInfo
      -DCMAKE_C_COMPILER=${CMAKE_C_COMPILER}
      -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}
      -DINC_LWIP_CACHE=${INC_LWIP_CACHE}
    INSTALL_COMMAND ""
    BUILD_ALWAYS ON
    USES_TERMINAL_BUILD ON)
  string(APPEND _ctest_include "if(EXISTS \"${bin}/CTestTestfile.cmake\")\n  subdirs(\"${bin}\")\nendif()\n")
endforeach()

file(WRITE ${CMAKE_BINARY_DIR}/inc_sanitizer_tests.cmake "${_ctest_include}")
set_property(DIRECTORY ${CMAKE_SOURCE_DIR} APPEND PROPERTY TEST_INCLUDE_FILES
  ${CMAKE_BINARY_DIR}/inc_sanitizer_tests.cmake)
