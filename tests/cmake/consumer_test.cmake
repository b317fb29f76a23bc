# cmake -P script: build tests/cmake/consumer against smlmkit and run it.
#   MODE=find_package      install smlmkit into WORK_DIR/prefix, then find_package(smlmkit CONFIG)
#   MODE=add_subdirectory  the consumer adds the smlmkit source tree itself
cmake_minimum_required(VERSION 3.25)
file(REMOVE_RECURSE ${WORK_DIR})
set(consumer_src ${SOURCE_DIR}/tests/cmake/consumer)

function(run_step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "step failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
endfunction()

set(common -G ${GENERATOR} -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_BUILD_TYPE=Release)
if(MODE STREQUAL "find_package")
  set(prefix ${WORK_DIR}/prefix)
  run_step(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/smlmkit-build ${common}
           -DCMAKE_INSTALL_PREFIX=${prefix}
           -DSMLMKIT_BUILD_TESTS=OFF -DSMLMKIT_BUILD_EXAMPLES=OFF -DSMLMKIT_BUILD_BENCHMARKS=OFF)
  run_step(${CMAKE_COMMAND} --install ${WORK_DIR}/smlmkit-build)
  if(NOT EXISTS ${prefix}/share/cmake/smlmkit/smlmkitConfigVersion.cmake)
    message(FATAL_ERROR "install did not produce smlmkitConfigVersion.cmake")
  endif()
  # The checks users run on their own models are installed with the library.
  foreach(header report doctest psf_conformance camera_conformance gradcheck)
    if(NOT EXISTS ${prefix}/include/smlm/testing/${header}.hpp)
      message(FATAL_ERROR "install did not produce smlm/testing/${header}.hpp")
    endif()
  endforeach()
  run_step(${CMAKE_COMMAND} -S ${consumer_src} -B ${WORK_DIR}/consumer-build ${common}
           -DCMAKE_PREFIX_PATH=${prefix} -DCONSUMER_MODE=find_package)
else()
  run_step(${CMAKE_COMMAND} -S ${consumer_src} -B ${WORK_DIR}/consumer-build ${common}
           -DCONSUMER_MODE=add_subdirectory -DSMLMKIT_SOURCE_DIR=${SOURCE_DIR})
endif()
run_step(${CMAKE_COMMAND} --build ${WORK_DIR}/consumer-build)
run_step(${WORK_DIR}/consumer-build/consumer)
message(STATUS "consumer (${MODE}) built and ran")
