# Configures and builds examples/firmware for Cortex-M4F with the toolchain file, the check
# program and the exported models of FIXTURE_DIR; prints arm-none-eabi-size's figures.
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR}/examples/firmware -B ${BUILD_DIR}
                        -DCMAKE_TOOLCHAIN_FILE=${SOURCE_DIR}/cmake/arm-none-eabi-cortex-m4.cmake
                        -DCMAKE_BUILD_TYPE=MinSizeRel
                        -DSPIKEGRAD_FIRMWARE_APP=${SOURCE_DIR}/tests/firmware/device/check.cpp
                        -DSPIKEGRAD_MODEL_DIR=${FIXTURE_DIR}
                RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "configuring the firmware build failed:\n${out}${err}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR}
                RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
message(STATUS "${out}")
if(NOT result EQUAL 0)
  message(FATAL_ERROR "building the firmware image failed:\n${out}${err}")
endif()
