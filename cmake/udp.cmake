# The UDP datapath (Boost.Asio for setup, sendmmsg/recvmmsg + GSO/GRO on the hot path), the raw
# UDP/TCP baselines of `weft bench transport --datapath udp`, and their test.
# Include this at the end of the root CMakeLists.txt (after the tests block: it uses GoogleTest
# when WEFT_BUILD_TESTS is on).

find_package(Boost 1.74 REQUIRED)
find_package(Threads REQUIRED)

# Part of libweft (DESIGN.md §8). Only these two TUs include Asio; Boost stays private (the public
# header does not expose it).
target_sources(weft PRIVATE ${PROJECT_SOURCE_DIR}/transport/datapath/udp/datapath.cc
                            ${PROJECT_SOURCE_DIR}/transport/driver/asio_driver.cc
                            ${PROJECT_SOURCE_DIR}/collectives/communicator.cc)
target_link_libraries(weft PRIVATE Boost::headers PUBLIC Threads::Threads)

# Baselines measured in the same run as weft (plain POSIX sockets, fork()ed peers).
add_library(weft_bench_baselines STATIC ${PROJECT_SOURCE_DIR}/bench/baselines/udp_baselines.cc)
target_include_directories(weft_bench_baselines PUBLIC ${PROJECT_SOURCE_DIR})
weft_warnings(weft_bench_baselines)

if(WEFT_BUILD_TESTS AND NOT WEFT_FUZZ)
  # Real sockets on 127.0.0.1: label serial (run alone, not beside other multi-process tests).
  add_executable(udp_datapath_test ${PROJECT_SOURCE_DIR}/tests/unit/udp_datapath_test.cc)
  target_link_libraries(udp_datapath_test PRIVATE weft weft_bench_baselines GTest::gtest_main GTest::gmock)
  target_include_directories(udp_datapath_test PRIVATE ${PROJECT_SOURCE_DIR})
  weft_warnings(udp_datapath_test)
  gtest_discover_tests(udp_datapath_test DISCOVERY_TIMEOUT 60
                       PROPERTIES LABELS serial RUN_SERIAL TRUE TIMEOUT 300)
endif()
