# PyTorch interop (tools/export_torch.py, tools/train_torch.py) through Debian's
# /usr/bin/python3; each test exits 77 (skipped) when torch is absent.
find_program(ZS_INTEROP_PYTHON /usr/bin/python3)
if(ZS_INTEROP_PYTHON)
  add_test(NAME torch_roundtrip
    COMMAND ${ZS_INTEROP_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/torch_roundtrip.py $<TARGET_FILE:zspace>
            ${CMAKE_SOURCE_DIR}/data/default.safetensors ${CMAKE_SOURCE_DIR}/data/gallery.zsf)
  add_test(NAME torch_train_ddp
    COMMAND ${ZS_INTEROP_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/torch_train_ddp.py $<TARGET_FILE:zspace> ${ZS_CELEBA_DIR})
  # the feature network and the feature loss (src/vae/features.c) against PyTorch
  add_test(NAME torch_feature_loss
    COMMAND ${ZS_INTEROP_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/torch_feature_loss.py $<TARGET_FILE:test_features>)
  set_tests_properties(torch_roundtrip torch_train_ddp torch_feature_loss PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300 LABELS interop)
endif()
