# Builds tests/firmware/device/check.cpp for the host (C++17, the compile-time engine of
# firmware/engine.hpp over the exported model headers in FIXTURE_DIR) and runs it: passes when
# every check passes (exit status 0). FLAGS: extra compiler flags (-march=native: the host's
# vector paths, AVX2 sign extensions included), NAME: the program's name.
if(NOT NAME)
  set(NAME check_host)
endif()
separate_arguments(extra UNIX_COMMAND "${FLAGS}")
execute_process(COMMAND ${COMPILER} -std=c++17 -O2 -Wall -Wextra -Werror -ffp-contract=off ${extra}
                        -I${INCLUDE_DIR} -I${FIXTURE_DIR} ${SOURCE} -o ${FIXTURE_DIR}/${NAME}
                RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "check.cpp does not build for the host:\n${out}${err}")
endif()
execute_process(COMMAND ${FIXTURE_DIR}/${NAME} RESULT_VARIABLE result OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
message(STATUS "${out}${err}")
if(NOT result EQUAL 0)
  message(FATAL_ERROR "the host build of the firmware check failed ${result} checks")
endif()
