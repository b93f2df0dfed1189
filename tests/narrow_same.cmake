# Run by ctest (tests/nn.cmake): the shipped model's samples and encodings
# of the shipped gallery, computed with the tiles this CPU picks and with
# those of an AVX2-only CPU (ZS_SIMD_NARROW=1, src/nn/simd.h), must be the
# same bytes: the kernels promise the same result on every machine.
#   cmake -DZSPACE=... -DMODEL=... -DFACES=... -DOUT=dir -P narrow_same.cmake
file(MAKE_DIRECTORY "${OUT}")
foreach(mode wide narrow)
  if(mode STREQUAL narrow)
    set(env ZS_SIMD_NARROW=1)
  else()
    set(env ZS_SIMD_NARROW=0)
  endif()
  # the run really takes the tiles named: without this both runs could be the wide ones
  execute_process(COMMAND ${CMAKE_COMMAND} -E env ${env} "${ZSPACE}" --version OUTPUT_VARIABLE version)
  if(mode STREQUAL narrow AND NOT version MATCHES "AVX2 inference tiles")
    message(FATAL_ERROR "ZS_SIMD_NARROW=1 did not give the narrow tiles: ${version}")
  endif()
  set(tiles_${mode} "${version}")
  execute_process(COMMAND ${CMAKE_COMMAND} -E env ${env}
    "${ZSPACE}" sample --model "${MODEL}" --count 16 --seed 7 --out "${OUT}/sample_${mode}.png"
    RESULT_VARIABLE rc OUTPUT_QUIET)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "zspace sample (${env}) failed: ${rc}")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} -E env ${env}
    "${ZSPACE}" encode --model "${MODEL}" --data "${FACES}" --threads 2 --out "${OUT}/enc_${mode}.safetensors"
    RESULT_VARIABLE rc OUTPUT_QUIET)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "zspace encode (${env}) failed: ${rc}")
  endif()
endforeach()
foreach(f sample.png enc.safetensors)
  string(REPLACE "." "_wide." a "${f}")
  string(REPLACE "." "_narrow." b "${f}")
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${OUT}/${a}" "${OUT}/${b}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${a} and ${b} differ: the narrow tiles do not compute what the wide ones do")
  endif()
endforeach()
message(STATUS "sample and encode: the same bytes with ${tiles_wide} and ${tiles_narrow}")
