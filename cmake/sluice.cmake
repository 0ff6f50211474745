# sluice_module(NAME DEPS ...): one static library per pipeline stage, built from the folder's *.cc files,
# plus one test binary NAME_test from its *_test.cc files (GoogleTest, registered with CTest). Adding a
# file to a stage needs no CMake edit.
function(sluice_module name)
  cmake_parse_arguments(ARG "" "" "DEPS;TEST_DEPS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/*.cc")
  file(GLOB tests CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/*_test.cc")
  file(GLOB fuzzers CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/*_fuzz.cc")
  list(FILTER sources EXCLUDE REGEX "/main\\.cc$")  # a stage's main.cc is its executable, not library code
  if(tests)
    list(REMOVE_ITEM sources ${tests})
  endif()
  if(fuzzers)
    list(REMOVE_ITEM sources ${fuzzers})
  endif()
  add_library(sluice_${name} STATIC ${sources})
  target_include_directories(sluice_${name} PUBLIC "${CMAKE_SOURCE_DIR}/src")
  target_link_libraries(sluice_${name} PUBLIC ${ARG_DEPS})
  if(tests)
    add_executable(${name}_test ${tests})
    target_link_libraries(${name}_test PRIVATE sluice_${name} ${ARG_TEST_DEPS} GTest::gtest_main GTest::gmock)
    target_compile_definitions(${name}_test PRIVATE
      SLUICE_SOURCE_DIR="${CMAKE_SOURCE_DIR}" SLUICE_BINARY_DIR="${CMAKE_BINARY_DIR}")
    gtest_discover_tests(${name}_test DISCOVERY_TIMEOUT 60 PROPERTIES LABELS ${name})
  endif()
endfunction()

# sluice_embed_files(TARGET FUNCTION NAME=PATH ...): compiles the files into TARGET as
# `const std::vector<EmbeddedFile>& FUNCTION()` (serve/embedded_file.h), regenerated when a file changes.
function(sluice_embed_files target function)
  set(output "${CMAKE_CURRENT_BINARY_DIR}/${function}.gen.cc")
  set(paths "")
  foreach(pair IN LISTS ARGN)
    string(FIND "${pair}" "=" eq)
    math(EXPR from "${eq} + 1")
    string(SUBSTRING "${pair}" ${from} -1 path)
    if(NOT EXISTS "${path}")
      message(FATAL_ERROR "${path} is missing: run scripts/setup (it fetches the pinned web dependencies)")
    endif()
    list(APPEND paths "${path}")
  endforeach()
  string(REPLACE ";" "|" files_arg "${ARGN}")  # a list would not survive the command line
  add_custom_command(OUTPUT "${output}"
    COMMAND ${CMAKE_COMMAND} "-DOUTPUT=${output}" "-DFUNCTION=${function}" "-DFILES=${files_arg}"
            -P "${CMAKE_SOURCE_DIR}/cmake/embed_files.cmake"
    DEPENDS ${paths} "${CMAKE_SOURCE_DIR}/cmake/embed_files.cmake"
    COMMENT "Embedding ${function}" VERBATIM)
  target_sources(${target} PRIVATE "${output}")
endfunction()
