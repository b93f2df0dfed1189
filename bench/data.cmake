# Data pipeline: per-image cost of the face paths, cache open and loader
# throughput (prepare_speed), and zspace prepare against Pillow
# (compare_pillow.py, run by hand: see its header).
add_executable(prepare_speed prepare_speed.c)
target_link_libraries(prepare_speed PRIVATE zspace_lib)
