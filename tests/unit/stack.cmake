# stack/ tests: steering's classifier (plus its fuzz target, run by a seeded
# driver in every build, so ASan/UBSan check it too).
inc_add_gtest(stack_classify_test stack_classify_test.cc)
target_link_libraries(stack_classify_test PRIVATE inc_stack)
target_include_directories(stack_classify_test PRIVATE ${CMAKE_SOURCE_DIR}/stack)

add_executable(fuzz_classify ${CMAKE_SOURCE_DIR}/tests/fuzz/classify_fuzz.c
                             ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_driver.c)
target_link_libraries(fuzz_classify PRIVATE inc_stack)
target_include_directories(fuzz_classify PRIVATE ${CMAKE_SOURCE_DIR}/stack)
inc_target_warnings(fuzz_classify)
inc_add_test(NAME fuzz.classify COMMAND fuzz_classify 300000 1 LABELS fuzz TIMEOUT 300)
