zs_add_test(test_nn_layers test_nn_layers.c)
zs_add_test(test_golden test_golden.c TIMEOUT 300 LABELS threads)
# The same checks with the tiles an AVX2-only CPU runs (ZS_SIMD_NARROW=1,
# src/nn/simd.h), so that a machine with AVX-512 tests them too, and the
# CLI's decodes and encodings compared byte for byte across the two.
add_test(NAME test_nn_layers_narrow COMMAND test_nn_layers)
set_tests_properties(test_nn_layers_narrow PROPERTIES ENVIRONMENT ZS_SIMD_NARROW=1 SKIP_RETURN_CODE 77)
add_test(NAME test_golden_narrow COMMAND test_golden)
set_tests_properties(test_golden_narrow PROPERTIES ENVIRONMENT ZS_SIMD_NARROW=1 SKIP_RETURN_CODE 77
  TIMEOUT 300 LABELS threads)
add_test(NAME test_narrow_same COMMAND ${CMAKE_COMMAND} -DZSPACE=$<TARGET_FILE:zspace>
  -DMODEL=${CMAKE_SOURCE_DIR}/data/default.safetensors -DFACES=${CMAKE_SOURCE_DIR}/data/gallery.zsf
  -DOUT=${CMAKE_CURRENT_BINARY_DIR}/narrow_same -P ${CMAKE_CURRENT_SOURCE_DIR}/narrow_same.cmake)
set_tests_properties(test_narrow_same PROPERTIES TIMEOUT 300 LABELS "cli;threads")
