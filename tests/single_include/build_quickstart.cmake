# Builds examples/quickstart.cpp against the single header alone: every
# `#include <spikegrad/...>` becomes `#include <spikegrad/spikegrad.hpp>` (the single header holds
# them all), and the only spikegrad include path is single_include/ (xtensor and xsimd come from
# the system). Passes when the program compiles and links.
file(READ ${SOURCE} text)
string(REGEX REPLACE "#include <spikegrad/[^>]+>" "#include <spikegrad/spikegrad.hpp>" text "${text}")
file(WRITE ${WORK_DIR}/quickstart_single.cpp "${text}")
execute_process(COMMAND ${COMPILER} -std=c++20 -O0 -DXTENSOR_USE_XSIMD -I${SINGLE_INCLUDE}
                        ${WORK_DIR}/quickstart_single.cpp -o ${WORK_DIR}/quickstart_single
                RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "quickstart does not build against ${SINGLE_INCLUDE} alone:\n${out}${err}")
endif()
message(STATUS "quickstart builds against ${SINGLE_INCLUDE}/spikegrad/spikegrad.hpp alone")
