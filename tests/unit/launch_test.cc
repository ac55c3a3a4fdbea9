// Launch environment detection: every launcher, precedence and agreement between launchers, the
// store address, and a clear error for every malformed or missing value.
#include "weft/collectives/launch.h"

#include <gtest/gtest.h>

#include <map>
#include <stdexcept>
#include <string>

namespace weft::collectives {
namespace {

using Env = std::map<std::string, std::string>;

LaunchInfo detect(const Env& e) {
  return detect_launch([&](std::string_view name) -> std::optional<std::string> {
    auto it = e.find(std::string(name));
    if (it == e.end()) return std::nullopt;
    return it->second;
  });
}

// The message detect() fails with (the test fails if it does not throw).
std::string error_of(const Env& e) {
  try {
    (void)detect(e);
  } catch (const std::runtime_error& err) {
    return err.what();
  }
  ADD_FAILURE() << "detect_launch did not fail";
  return "";
}

TEST(Launch, WeftVariables) {
  const LaunchInfo i = detect({{"WEFT_RANK", "2"}, {"WEFT_WORLD_SIZE", "4"}, {"WEFT_STORE", "tcp://10.0.0.1:29400"},
                               {"WEFT_LOCAL_RANK", "0"}, {"WEFT_LOCAL_WORLD_SIZE", "2"}});
  EXPECT_EQ(i.launcher, "weft");
  EXPECT_EQ(i.rank, 2);
  EXPECT_EQ(i.size, 4);
  EXPECT_EQ(i.local_rank, 0);
  EXPECT_EQ(i.local_size, 2);
  EXPECT_EQ(i.store.kind, StoreAddress::Kind::kTcp);
  EXPECT_EQ(i.store.host, "10.0.0.1");
  EXPECT_EQ(i.store.port, 29400);
}

TEST(Launch, TorchrunDerivesTheStoreFromMasterAddrAndPort) {
  const LaunchInfo i = detect({{"RANK", "1"}, {"WORLD_SIZE", "8"}, {"LOCAL_RANK", "1"}, {"LOCAL_WORLD_SIZE", "4"},
                               {"MASTER_ADDR", "node0"}, {"MASTER_PORT", "29500"}});
  EXPECT_EQ(i.launcher, "torchrun");
  EXPECT_EQ(i.rank, 1);
  EXPECT_EQ(i.size, 8);
  EXPECT_EQ(i.store.text(), "tcp://node0:29501") << "torch's own store holds MASTER_PORT";
  EXPECT_EQ(detect({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "fe80::1"}, {"WEFT_STORE_PORT", "7000"}})
                .store.text(),
            "tcp://[fe80::1]:7000");
  EXPECT_EQ(detect({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "a"}, {"MASTER_PORT", "1"},
                    {"WEFT_STORE", "file:///shared/job"}})
                .store.text(),
            "file:///shared/job")
      << "WEFT_STORE wins";
}

TEST(Launch, OpenMpiAndSlurm) {
  const LaunchInfo m = detect({{"OMPI_COMM_WORLD_RANK", "3"}, {"OMPI_COMM_WORLD_SIZE", "4"},
                               {"OMPI_COMM_WORLD_LOCAL_RANK", "3"}, {"OMPI_COMM_WORLD_LOCAL_SIZE", "4"},
                               {"WEFT_STORE", "tcp://127.0.0.1:5000"}});
  EXPECT_EQ(m.launcher, "Open MPI");
  EXPECT_EQ(m.rank, 3);
  EXPECT_EQ(m.local_size, 4);
  const LaunchInfo s = detect({{"SLURM_PROCID", "5"}, {"SLURM_NTASKS", "16"}, {"SLURM_LOCALID", "1"},
                               {"WEFT_STORE", "file:///scratch/w"}});
  EXPECT_EQ(s.launcher, "Slurm");
  EXPECT_EQ(s.rank, 5);
  EXPECT_EQ(s.size, 16);
  EXPECT_EQ(s.local_rank, 1);
  EXPECT_EQ(s.local_size, -1) << "not given";
  EXPECT_EQ(s.store.path, "/scratch/w");
}

// mpirun -np N on one host with no WEFT_STORE: a file store named by the job, marked temporary;
// across hosts (local size below the world) there is no default and the error names WEFT_STORE.
TEST(Launch, OpenMpiOnOneHostGetsAJobFileStore) {
  const LaunchInfo m = detect({{"OMPI_COMM_WORLD_RANK", "1"}, {"OMPI_COMM_WORLD_SIZE", "4"},
                               {"OMPI_COMM_WORLD_LOCAL_RANK", "1"}, {"OMPI_COMM_WORLD_LOCAL_SIZE", "4"},
                               {"OMPI_MCA_ess_base_jobid", "104005633"}});
  EXPECT_EQ(m.store.kind, StoreAddress::Kind::kFile);
  EXPECT_EQ(m.store.path, "/tmp/weft-store-ompi-104005633");
  EXPECT_TRUE(m.store_temporary);
  const std::string e = error_of({{"OMPI_COMM_WORLD_RANK", "1"}, {"OMPI_COMM_WORLD_SIZE", "4"},
                                  {"OMPI_COMM_WORLD_LOCAL_RANK", "1"}, {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"},
                                  {"OMPI_MCA_ess_base_jobid", "104005633"}});
  EXPECT_NE(e.find("WEFT_STORE is not set"), std::string::npos) << e;
  const LaunchInfo set = detect({{"OMPI_COMM_WORLD_RANK", "1"}, {"OMPI_COMM_WORLD_SIZE", "4"},
                                 {"OMPI_COMM_WORLD_LOCAL_SIZE", "4"}, {"OMPI_MCA_ess_base_jobid", "7"},
                                 {"WEFT_STORE", "tcp://127.0.0.1:5000"}});
  EXPECT_EQ(set.store.kind, StoreAddress::Kind::kTcp);
  EXPECT_FALSE(set.store_temporary);
}

TEST(Launch, PrecedenceAndAgreement) {
  // mpirun inside a Slurm allocation: both present, agreeing; the first in precedence is named.
  const LaunchInfo i = detect({{"OMPI_COMM_WORLD_RANK", "1"}, {"OMPI_COMM_WORLD_SIZE", "2"}, {"SLURM_PROCID", "1"},
                               {"SLURM_NTASKS", "2"}, {"WEFT_STORE", "tcp://h:1"}});
  EXPECT_EQ(i.launcher, "Open MPI");
  const std::string e = error_of({{"WEFT_RANK", "0"}, {"WEFT_WORLD_SIZE", "2"}, {"OMPI_COMM_WORLD_RANK", "1"},
                                  {"OMPI_COMM_WORLD_SIZE", "2"}, {"WEFT_STORE", "tcp://h:1"}});
  EXPECT_NE(e.find("disagree"), std::string::npos) << e;
  EXPECT_NE(e.find("WEFT_RANK=0"), std::string::npos) << e;
  EXPECT_NE(e.find("OMPI_COMM_WORLD_RANK=1"), std::string::npos) << e;
}

TEST(Launch, OneRankNeedsNoStore) {
  const LaunchInfo i = detect({{"WEFT_RANK", "0"}, {"WEFT_WORLD_SIZE", "1"}});
  EXPECT_EQ(i.size, 1);
  EXPECT_EQ(i.store.kind, StoreAddress::Kind::kNone);
  EXPECT_EQ(i.store.text(), "");
}

TEST(Launch, ErrorsNameTheVariables) {
  struct Case {
    Env env;
    std::string expect;
  } cases[] = {
      {{}, "no launcher environment"},
      {{{"WEFT_RANK", "0"}}, "WEFT_RANK is set but WEFT_WORLD_SIZE is not"},
      {{{"WORLD_SIZE", "2"}}, "WORLD_SIZE is set but RANK is not"},
      {{{"WEFT_RANK", "x"}, {"WEFT_WORLD_SIZE", "2"}}, "WEFT_RANK='x' is not a non-negative integer"},
      {{{"WEFT_RANK", "-1"}, {"WEFT_WORLD_SIZE", "2"}}, "WEFT_RANK='-1' is not a non-negative integer"},
      {{{"WEFT_RANK", "1 "}, {"WEFT_WORLD_SIZE", "2"}}, "WEFT_RANK='1 ' is not a non-negative integer"},
      {{{"WEFT_RANK", "0"}, {"WEFT_WORLD_SIZE", "0"}}, "WEFT_WORLD_SIZE=0: the world needs at least one rank"},
      {{{"WEFT_RANK", "4"}, {"WEFT_WORLD_SIZE", "4"}}, "WEFT_RANK=4 is not below WEFT_WORLD_SIZE=4"},
      {{{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "2"}, {"LOCAL_WORLD_SIZE", "2"}, {"WEFT_STORE", "tcp://h:1"}},
       "LOCAL_RANK=2 is not below LOCAL_WORLD_SIZE=2"},
      {{{"WEFT_RANK", "0"}, {"WEFT_WORLD_SIZE", "2"}}, "WEFT_STORE is not set"},
      {{{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}}, "neither WEFT_STORE_PORT nor MASTER_PORT"},
      {{{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "65535"}},
       "MASTER_ADDR and MASTER_PORT + 1='tcp://h:65536': the port must be 1..65535"},
      {{{"WEFT_RANK", "0"}, {"WEFT_WORLD_SIZE", "2"}, {"WEFT_STORE", "udp://h:1"}}, "is not tcp://HOST:PORT or file:///DIR"},
      {{{"WEFT_RANK", "0"}, {"WEFT_WORLD_SIZE", "2"}, {"WEFT_STORE", "tcp://h"}}, "has no port"},
      {{{"WEFT_RANK", "0"}, {"WEFT_WORLD_SIZE", "2"}, {"WEFT_STORE", "tcp://:80"}}, "has no host"},
      {{{"WEFT_RANK", "0"}, {"WEFT_WORLD_SIZE", "2"}, {"WEFT_STORE", "tcp://h:0"}}, "the port must be 1..65535"},
      {{{"WEFT_RANK", "0"}, {"WEFT_WORLD_SIZE", "2"}, {"WEFT_STORE", "tcp://::1:80"}}, "in brackets"},
      {{{"WEFT_RANK", "0"}, {"WEFT_WORLD_SIZE", "2"}, {"WEFT_STORE", "tcp://[::1]80"}}, "tcp://[ADDRESS]:PORT"},
      {{{"WEFT_RANK", "0"}, {"WEFT_WORLD_SIZE", "2"}, {"WEFT_STORE", "file://relative/dir"}}, "absolute directory"},
  };
  for (const Case& c : cases) {
    const std::string e = error_of(c.env);
    EXPECT_NE(e.find(c.expect), std::string::npos) << "expected '" << c.expect << "' in: " << e;
  }
}

TEST(Launch, StoreTextRoundTrips) {
  for (const char* t : {"tcp://host:1", "tcp://10.1.2.3:65535", "tcp://[::1]:29400", "file:///a/b"}) {
    EXPECT_EQ(parse_store(t, "test").text(), t);
  }
}

}  // namespace
}  // namespace weft::collectives
