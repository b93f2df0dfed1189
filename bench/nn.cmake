foreach(b train_speed decode_speed)
  add_executable(${b} ${b}.c)
  target_link_libraries(${b} PRIVATE zspace_lib)
endforeach()
