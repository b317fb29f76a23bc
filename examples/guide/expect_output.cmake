# cmake -P script: runs PROGRAM (no arguments: its defaults) in the current folder and fails unless
# it exits with 0 and its standard output matches the regular expression EXPECT.
#   cmake -DPROGRAM=guide_localize_evaluate -DEXPECT="jaccard=0\\.[3-9]" -P expect_output.cmake
cmake_minimum_required(VERSION 3.25)
execute_process(COMMAND ${PROGRAM} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} exited with ${rc}")
endif()
if(NOT out MATCHES "${EXPECT}")
  message(FATAL_ERROR "${PROGRAM}: no line matches \"${EXPECT}\"")
endif()
