# Compiles SOURCE and passes when compilation fails with the sentence of its first line
# ("// Expected error: <sentence>") in the compiler's output.
file(STRINGS ${SOURCE} first LIMIT_COUNT 1)
string(REGEX REPLACE "^// Expected error: \"(.*)\"$" "\\1" expected "${first}")
separate_arguments(include_flags UNIX_COMMAND "${INCLUDES}")
execute_process(COMMAND ${COMPILER} -std=c++20 -fsyntax-only ${include_flags} ${SOURCE}
                RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(result EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled, but it should fail with: ${expected}")
endif()
string(FIND "${out}${err}" "${expected}" where)
if(where EQUAL -1)
  message(FATAL_ERROR "${SOURCE} failed without the sentence '${expected}':\n${err}")
endif()
message(STATUS "${SOURCE}: fails with '${expected}'")
