# Tests of the storage backends (server/backend.h).  Included from
# server/CMakeLists.txt.
set(QBD_BACKEND_TESTS ${CMAKE_CURRENT_SOURCE_DIR}/tests)

add_executable(qbd_config_tests ${QBD_BACKEND_TESTS}/server_config_test.cc)
target_link_libraries(qbd_config_tests PRIVATE qbdbackend GTest::gtest_main)
gtest_discover_tests(qbd_config_tests DISCOVERY_TIMEOUT 30)

add_executable(qbd_file_backend_tests ${QBD_BACKEND_TESTS}/file_backend_test.cc)
target_link_libraries(qbd_file_backend_tests PRIVATE qbdbackend GTest::gtest_main)
gtest_discover_tests(qbd_file_backend_tests DISCOVERY_TIMEOUT 30)

# The rbd backend, in-process.
add_executable(qbd_rbd_tests ${QBD_BACKEND_TESTS}/rbd_backend_test.cc)
target_link_libraries(qbd_rbd_tests PRIVATE qbdbackend GTest::gtest_main)

# qbd-server processes with the rbd backend, over the wire.
add_executable(qbd_rbd_server_tests ${QBD_BACKEND_TESTS}/rbd_server_test.cc)
target_link_libraries(qbd_rbd_server_tests PRIVATE qbdclient rbd rados GTest::gtest_main)
target_compile_definitions(qbd_rbd_server_tests PRIVATE
                           QBD_SERVER_BINARY="$<TARGET_FILE:qbd-server>")
add_dependencies(qbd_rbd_server_tests qbd-server)

# Both run against a real cluster, started for the run by the ceph_gtest
# fixture: ctest needs nothing else (CI installs Ceph).
set(QBD_CEPH_DIR ${CMAKE_BINARY_DIR}/ceph-gtest)
# -DQBD_CEPH_SCRIPT=... runs the tests on a cluster started by another script
# of the same interface (start|stop --dir DIR, writing DIR/env).
if(NOT DEFINED QBD_CEPH_SCRIPT)
  set(QBD_CEPH_SCRIPT ${CMAKE_SOURCE_DIR}/tests/ceph/cluster.sh)
endif()
if(NOT EXISTS ${QBD_CEPH_SCRIPT})
  message(WARNING "${QBD_CEPH_SCRIPT} is missing: the rbd backend tests are not registered")
  return()
endif()
add_test(NAME ceph_gtest_start COMMAND ${QBD_CEPH_SCRIPT} start --dir ${QBD_CEPH_DIR})
set_tests_properties(ceph_gtest_start PROPERTIES FIXTURES_SETUP ceph_gtest TIMEOUT 180)
add_test(NAME ceph_gtest_stop COMMAND ${QBD_CEPH_SCRIPT} stop --dir ${QBD_CEPH_DIR})
set_tests_properties(ceph_gtest_stop PROPERTIES FIXTURES_CLEANUP ceph_gtest TIMEOUT 120)
foreach(t qbd_rbd_tests qbd_rbd_server_tests)
  gtest_discover_tests(${t} DISCOVERY_TIMEOUT 30
                       PROPERTIES FIXTURES_REQUIRED ceph_gtest TIMEOUT 180
                                  ENVIRONMENT QBD_CEPH_ENV=${QBD_CEPH_DIR}/env)
endforeach()
