# The perceptual loss's feature network: gradients, training, files.
zs_add_test(test_features test_features.c TIMEOUT 300 LABELS threads)
target_link_libraries(test_features PRIVATE zs_test_data_fixture)
