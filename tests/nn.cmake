zs_add_test(test_nn_layers test_nn_layers.c)
zs_add_test(test_golden test_golden.c TIMEOUT 300 LABELS threads)
