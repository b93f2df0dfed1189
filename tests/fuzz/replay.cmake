# The fuzz targets' corpora replayed in every build (no libFuzzer needed):
# each target's LLVMFuzzerTestOneInput, with the same checks, runs once on
# every committed input of tests/fuzz/corpus/<target>, seeds and the
# crashers kept as regress-* alike (tests/fuzz/README.md). Included from
# tests/CMakeLists.txt; in the ASan build they run under ASan + UBSan.
set(ZS_FUZZ_DIR ${CMAKE_SOURCE_DIR}/tests/fuzz)
function(zs_add_replay name)
  add_executable(replay_${name} ${ZS_FUZZ_DIR}/fuzz_${name}.c ${ZS_FUZZ_DIR}/replay_main.c)
  target_include_directories(replay_${name} PRIVATE ${CMAKE_SOURCE_DIR}/src ${ZS_FUZZ_DIR})
  target_link_libraries(replay_${name} PRIVATE zspace_lib)
  add_test(NAME fuzz_replay_${name} COMMAND replay_${name} ${ZS_FUZZ_DIR}/corpus/${name})
  set_tests_properties(fuzz_replay_${name} PROPERTIES LABELS fuzz TIMEOUT 300)
endfunction()
zs_add_replay(annot)
zs_add_replay(photo)
zs_add_replay(ckpt)
zs_add_replay(cache)
zs_add_replay(session)
target_sources(replay_session PRIVATE ${CMAKE_SOURCE_DIR}/src/app/session_file.c)
target_link_libraries(replay_session PRIVATE SDL2::SDL2 PkgConfig::EPOXY)
