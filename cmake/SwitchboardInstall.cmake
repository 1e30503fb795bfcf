# `cmake --install build [--prefix DIR]`: the public headers, the router library and
# the stores with the static libraries they pull in, the .proto files of the API, and
# a CMake package, so that another project writes
#
#   find_package(Switchboard 0.1 REQUIRED)
#   target_link_libraries(app PRIVATE Switchboard::router)          # memory store
#   target_link_libraries(app PRIVATE Switchboard::store_sqlite)    # + SQLite store
#
# (examples/consumer does exactly that, against a fresh install, under ctest).
# switchboardd itself is installed by router/daemon.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(SWITCHBOARD_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/Switchboard)

# Exported names: Switchboard::router, Switchboard::store_sqlite, ... The internal
# pieces the static libraries link privately travel along; consumers do not name them.
set(switchboard_exported
  switchboard_router
  switchboard_store_codec
  switchboard_store_group_commit
  switchboard_store_sqlite
  switchboard_store_postgres)
foreach(target ${switchboard_exported})
  string(REGEX REPLACE "^switchboard_" "" export_name ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${export_name})
endforeach()

install(TARGETS ${switchboard_exported}
  EXPORT SwitchboardTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/router/include/switchboard DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/proto/switchboard
  DESTINATION ${CMAKE_INSTALL_DATADIR}/switchboard/proto
  FILES_MATCHING PATTERN "*.proto")

install(EXPORT SwitchboardTargets NAMESPACE Switchboard:: DESTINATION ${SWITCHBOARD_INSTALL_CMAKEDIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/SwitchboardConfig.cmake.in
  ${PROJECT_BINARY_DIR}/SwitchboardConfig.cmake
  INSTALL_DESTINATION ${SWITCHBOARD_INSTALL_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/SwitchboardConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/SwitchboardConfig.cmake ${PROJECT_BINARY_DIR}/SwitchboardConfigVersion.cmake
  DESTINATION ${SWITCHBOARD_INSTALL_CMAKEDIR})
