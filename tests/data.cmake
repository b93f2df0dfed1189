# Data pipeline tests: annotations, the join, photo decoding and the face
# crop, the face cache and the loader on fixtures made at run time, then the
# real CelebA slice (skipped when ../shared/celeba is absent).
add_library(zs_test_data_fixture STATIC test_data_fixture.c)
target_link_libraries(zs_test_data_fixture PUBLIC zs_testutil)

function(zs_add_data_test name)
  zs_add_test(${name} ${name}.c ${ARGN})
  target_link_libraries(${name} PRIVATE zs_test_data_fixture)
  set_property(TEST ${name} APPEND PROPERTY LABELS data)
endfunction()

zs_add_data_test(test_data_annot)
zs_add_data_test(test_data_image)
zs_add_data_test(test_data_index)
zs_add_data_test(test_data_cache)
zs_add_data_test(test_data_loader)
zs_add_data_test(test_data_celeba TIMEOUT 300)
set_property(TEST test_data_loader APPEND PROPERTY LABELS threads)
# 1,000 mutated checkpoints and 1,000 mutated face caches (tests/test_mutate.c)
zs_add_data_test(test_mutate TIMEOUT 300)
