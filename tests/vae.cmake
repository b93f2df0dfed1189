# Trainer, checkpoints, CLI training jobs.
zs_add_test(test_trainer test_trainer.c TIMEOUT 300 LABELS threads)
add_test(NAME kill_train COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/kill_train.sh $<TARGET_FILE:zspace> ${ZS_CELEBA_DIR})
set_tests_properties(kill_train PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
find_program(ZS_DEBIAN_PYTHON /usr/bin/python3)
if(ZS_DEBIAN_PYTHON)
  add_test(NAME torch_reads_checkpoint
    COMMAND ${ZS_DEBIAN_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/torch_reads_checkpoint.py $<TARGET_FILE:zspace> ${ZS_CELEBA_DIR})
  set_tests_properties(torch_reads_checkpoint PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
endif()
add_test(NAME fault_train COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/fault_train.sh $<TARGET_FILE:zspace> ${ZS_CELEBA_DIR})
set_tests_properties(fault_train PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
target_link_libraries(test_trainer PRIVATE zs_test_data_fixture)
