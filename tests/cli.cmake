# CLI tests: the built `zspace` executable run as a user would, on fixture
# directories and on the CelebA slice (that part skips itself when absent).
zs_add_test(test_cli_prepare test_cli_prepare.c ARGS $<TARGET_FILE:zspace> TIMEOUT 300 LABELS "cli;data")
target_link_libraries(test_cli_prepare PRIVATE zs_test_data_fixture)
add_dependencies(test_cli_prepare zspace)
zs_add_test(test_cli_latent test_cli_latent.c
  ARGS $<TARGET_FILE:zspace> ${CMAKE_SOURCE_DIR}/data/default.safetensors TIMEOUT 600 LABELS "cli;latent")
target_link_libraries(test_cli_latent PRIVATE zs_test_data_fixture)
add_dependencies(test_cli_latent zspace)
