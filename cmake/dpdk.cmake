# libweft-dpdk: the DPDK datapath, apart from libweft so a runtime that links weft does not pull
# DPDK in. Included from the top-level CMakeLists.txt after libweft and enable_testing().
#
# DPDK comes from pkg-config (Debian's libdpdk-dev, shared libraries: a static link wants
# libsystemd, ibverbs and more). Two fixes to its flags:
#  - its -march=corei7 would land after our own flags and silently drop AVX2/AVX-512: replaced by
#    the additive -msse4.2 -mpopcnt (what corei7 means, and what rte_memcpy.h's SSSE3 path needs),
#    which can only add to a -march=native, never lower it;
#  - its headers must be SYSTEM includes (they fail -Werror=volatile under C++20). Include
#    directories of IMPORTED targets are SYSTEM by default; the forced `-include rte_config.h`
#    resolves through them.
# The EAL dlopens every PMD (memif, af_packet, ...) from its plugin directory at run time, so
# vdevs need no extra link flags.

find_package(PkgConfig REQUIRED)
pkg_check_modules(DPDK REQUIRED IMPORTED_TARGET libdpdk)
get_target_property(_weft_dpdk_opts PkgConfig::DPDK INTERFACE_COMPILE_OPTIONS)
if(_weft_dpdk_opts)
  list(FILTER _weft_dpdk_opts EXCLUDE REGEX "^-march=")
  list(APPEND _weft_dpdk_opts -msse4.2 -mpopcnt)
  set_target_properties(PkgConfig::DPDK PROPERTIES INTERFACE_COMPILE_OPTIONS "${_weft_dpdk_opts}")
endif()

set(_weft_root ${CMAKE_CURRENT_LIST_DIR}/..)

add_library(weft_dpdk ${_weft_root}/transport/datapath/dpdk/datapath.cc ${_weft_root}/collectives/memif_mesh.cc)
add_library(weft::dpdk ALIAS weft_dpdk)
set_target_properties(weft_dpdk PROPERTIES OUTPUT_NAME weft-dpdk)
target_link_libraries(weft_dpdk PUBLIC weft PRIVATE PkgConfig::DPDK)
weft_warnings(weft_dpdk)

# Raw memif baseline and weft-over-memif goodput, for `weft bench transport --datapath dpdk`.
add_library(weft_memif_baseline ${_weft_root}/bench/baselines/memif_baseline.cc)
target_include_directories(weft_memif_baseline PUBLIC ${_weft_root})
target_link_libraries(weft_memif_baseline PUBLIC weft PRIVATE weft_dpdk PkgConfig::DPDK)
weft_warnings(weft_memif_baseline)

if(WEFT_BUILD_TESTS)
  # One program, two roles (responder / sender), run as two processes by the scripts below.
  add_executable(dpdk_transfer ${_weft_root}/tests/integration/dpdk_transfer.cc)
  target_link_libraries(dpdk_transfer PRIVATE weft_dpdk)
  weft_warnings(dpdk_transfer)

  # Raw memif vs weft-over-memif goodput table (a benchmark program, also run once as a smoke test).
  add_executable(dpdk_memif_bench ${_weft_root}/tests/integration/dpdk_memif_bench.cc)
  target_link_libraries(dpdk_memif_bench PRIVATE weft_memif_baseline)
  weft_warnings(dpdk_memif_bench)

  # Single-process checks on peerless vdevs (net_ring0, net_null); one process per case. Serial,
  # like every DPDK test (DESIGN.md §9): each pins lcore 0 and reserves 512 MB.
  add_executable(dpdk_datapath_test ${_weft_root}/tests/integration/dpdk_datapath_test.cc)
  target_link_libraries(dpdk_datapath_test PRIVATE weft_dpdk PkgConfig::DPDK)
  weft_warnings(dpdk_datapath_test)
  set(_weft_dpdk_cases loopback vlan_pcp no_vlan partial_tx pcap tsc_clock eal_twice eal_bad_args bad_port
                       link_timeout link_down)
  foreach(case ${_weft_dpdk_cases})
    add_test(NAME dpdk_datapath_${case} COMMAND dpdk_datapath_test ${case})
    set_tests_properties(dpdk_datapath_${case} PROPERTIES LABELS serial RUN_SERIAL TRUE TIMEOUT 60)
  endforeach()

  set(_weft_it ${_weft_root}/tests/integration)
  # memif between two processes (-l 0 / -l 1), clean and with 5 % loss on both sides.
  add_test(NAME dpdk_memif COMMAND ${_weft_it}/dpdk_memif.sh $<TARGET_FILE:dpdk_transfer>)
  add_test(NAME dpdk_memif_loss5 COMMAND ${_weft_it}/dpdk_memif.sh $<TARGET_FILE:dpdk_transfer> --loss 0.05)
  # The same with every frame encrypted (a cluster key the responder writes into the test's
  # temporary directory).
  add_test(NAME dpdk_memif_encrypted_loss5 COMMAND ${_weft_it}/dpdk_memif.sh $<TARGET_FILE:dpdk_transfer> --loss 0.05)
  set_tests_properties(dpdk_memif_encrypted_loss5 PROPERTIES ENVIRONMENT WEFT_ENCRYPT=1)
  # af_packet over a veth pair in two network namespaces the script creates and removes.
  add_test(NAME dpdk_af_packet
           COMMAND ${_weft_it}/dpdk_af_packet.sh ${_weft_root}/scripts/netns-veth $<TARGET_FILE:dpdk_transfer>)
  add_test(NAME dpdk_af_packet_loss5
           COMMAND ${_weft_it}/dpdk_af_packet.sh ${_weft_root}/scripts/netns-veth $<TARGET_FILE:dpdk_transfer>
                   --loss 0.05)
  add_test(NAME dpdk_memif_bench_smoke COMMAND dpdk_memif_bench --runs 1 --seconds 0.5 --weft-count-1m 16
                                                                --weft-count-64m 1)
  set_tests_properties(dpdk_memif dpdk_memif_loss5 dpdk_memif_encrypted_loss5 dpdk_af_packet dpdk_af_packet_loss5 dpdk_memif_bench_smoke
                       PROPERTIES LABELS serial RUN_SERIAL TRUE TIMEOUT 180)
endif()
