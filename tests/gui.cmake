# The explorer, headless: tests/test_gui.c runs `zspace gui --script ...`
# under xvfb-run (or SDL_VIDEODRIVER=offscreen when xvfb-run is absent) and
# checks the screenshots' pixels against libzspace; test_gui_ui checks the
# immediate-mode widgets alone, without a window.
add_library(zs_gui_harness STATIC gui_harness.c)
target_link_libraries(zs_gui_harness PUBLIC zs_testutil)
zs_add_test(test_gui test_gui.c ARGS $<TARGET_FILE:zspace> ${CMAKE_SOURCE_DIR} TIMEOUT 400 LABELS gui)
add_dependencies(test_gui zspace)
# Alone: its scripts wait at most 60 s for a picture, and the live Analysis tab's encoder runs at
# nice +10 like the trainer; beside another heavy test (the ASan run is -j2) it got none in time.
set_tests_properties(test_gui PROPERTIES RUN_SERIAL TRUE)
target_link_libraries(test_gui PRIVATE zs_gui_harness)
# the Sharpen slider, Sample's box mode, the Walk tab, the mean face (src/app/views.c)
zs_add_test(test_gui_views test_gui_views.c ARGS $<TARGET_FILE:zspace> ${CMAKE_SOURCE_DIR} TIMEOUT 300 LABELS gui)
add_dependencies(test_gui_views zspace)
target_link_libraries(test_gui_views PRIVATE zs_gui_harness)
zs_add_test(test_gui_ui test_gui_ui.c LABELS gui)
target_sources(test_gui_ui PRIVATE ${CMAKE_SOURCE_DIR}/src/app/ui.c)
zs_add_test(test_gui_decoder test_gui_decoder.c
  ARGS ${CMAKE_SOURCE_DIR}/data/default.safetensors ${CMAKE_SOURCE_DIR}/data/attrs.safetensors
       ${CMAKE_SOURCE_DIR}/data/gallery.zsf
  TIMEOUT 120 LABELS "gui;threads")
target_sources(test_gui_decoder PRIVATE ${CMAKE_SOURCE_DIR}/src/app/decoder.c)
zs_add_test(test_gui_analyzer test_gui_analyzer.c TIMEOUT 120 LABELS "gui;threads")
target_sources(test_gui_analyzer PRIVATE ${CMAKE_SOURCE_DIR}/src/app/analyzer.c)
