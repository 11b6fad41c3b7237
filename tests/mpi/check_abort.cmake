# Runs the abort_job helper on 2 ranks: it must end (within the timeout) with a non-zero status
# and print the failing rank's error. -DMPIRUN="<mpirun;flags>" -DPROGRAM=<abort_job>
execute_process(COMMAND ${MPIRUN} 2 ${PROGRAM} TIMEOUT 60
                RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
message(STATUS "exit status: ${status}\n${out}${err}")
if(status MATCHES "timeout" OR status EQUAL 0)
  message(FATAL_ERROR "the job did not abort: status '${status}'")
endif()
if(NOT err MATCHES "abort_job: rank 1 of 2: deliberate failure on rank 1")
  message(FATAL_ERROR "the failing rank's error is not on stderr")
endif()
