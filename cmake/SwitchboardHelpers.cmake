# switchboard_add_test(NAME SOURCES a.cc b.cc LIBS x y [LABELS l])
# One GoogleTest binary, registered with ctest test by test.
include(GoogleTest)
function(switchboard_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gmock GTest::gtest_main)
  gtest_discover_tests(${name} PROPERTIES LABELS "${ARG_LABELS}" DISCOVERY_TIMEOUT 60)
endfunction()

# switchboard_add_adapter(NAME SOURCES ... LIBS ...)
# A channel adapter library, aliased switchboard::adapter_<name>.
function(switchboard_add_adapter name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_library(switchboard_adapter_${name} STATIC ${ARG_SOURCES})
  add_library(switchboard::adapter_${name} ALIAS switchboard_adapter_${name})
  target_link_libraries(switchboard_adapter_${name} PUBLIC switchboard::router ${ARG_LIBS})
endfunction()
