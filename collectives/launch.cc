#include "weft/collectives/launch.h"

#include <charconv>
#include <cstdlib>
#include <stdexcept>
#include <vector>

namespace weft::collectives {
namespace {

struct Launcher {
  const char* name;
  const char* rank;
  const char* size;
  const char* local_rank;
  const char* local_size;
};

constexpr Launcher kLaunchers[] = {
    {"weft", "WEFT_RANK", "WEFT_WORLD_SIZE", "WEFT_LOCAL_RANK", "WEFT_LOCAL_WORLD_SIZE"},
    {"torchrun", "RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE"},
    {"Open MPI", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK",
     "OMPI_COMM_WORLD_LOCAL_SIZE"},
    {"Slurm", "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", "SLURM_NTASKS_PER_NODE"},
};

[[noreturn]] void fail(const std::string& message) { throw std::runtime_error(message); }

// A non-negative decimal integer below 2^31, the whole value; else an error naming `name`.
int parse_count(std::string_view name, const std::string& value) {
  int v = 0;
  const char* end = value.data() + value.size();
  auto [p, ec] = std::from_chars(value.data(), end, v);
  if (value.empty() || ec != std::errc() || p != end || v < 0) {
    fail(std::string(name) + "='" + value + "' is not a non-negative integer");
  }
  return v;
}

std::optional<int> read_count(const EnvLookup& env, const char* name) {
  if (auto v = env(name)) return parse_count(name, *v);
  return std::nullopt;
}

struct Found {
  const Launcher* launcher;
  int rank, size, local_rank, local_size;
};

// The launcher's values, if its rank or size variable is set; both must be, and consistent.
std::optional<Found> read_launcher(const EnvLookup& env, const Launcher& l) {
  const std::optional<int> rank = read_count(env, l.rank), size = read_count(env, l.size);
  if (!rank && !size) return std::nullopt;
  if (!rank || !size) {
    fail(std::string(l.name) + " launch: " + (rank ? l.rank : l.size) + " is set but " + (rank ? l.size : l.rank) +
         " is not; set both");
  }
  if (*size < 1) fail(std::string(l.size) + "=" + std::to_string(*size) + ": the world needs at least one rank");
  if (*rank >= *size) {
    fail(std::string(l.rank) + "=" + std::to_string(*rank) + " is not below " + l.size + "=" + std::to_string(*size));
  }
  Found f{&l, *rank, *size, -1, -1};
  const std::optional<int> lr = read_count(env, l.local_rank), ls = read_count(env, l.local_size);
  if (lr && ls && *lr >= *ls) {
    fail(std::string(l.local_rank) + "=" + std::to_string(*lr) + " is not below " + l.local_size + "=" +
         std::to_string(*ls));
  }
  if (lr) f.local_rank = *lr;
  if (ls) f.local_size = *ls;
  return f;
}

}  // namespace

std::string StoreAddress::text() const {
  switch (kind) {
    case Kind::kNone: return "";
    case Kind::kTcp:
      return "tcp://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
    case Kind::kFile: return "file://" + path;
  }
  return "";
}

StoreAddress parse_store(std::string_view text, std::string_view what) {
  const std::string w(what), t(text);
  StoreAddress a;
  if (text.starts_with("file://")) {
    a.kind = StoreAddress::Kind::kFile;
    a.path = std::string(text.substr(7));
    if (a.path.empty() || a.path[0] != '/') {
      fail(w + "='" + t + "': a file store needs an absolute directory, e.g. file:///shared/weft-job");
    }
    return a;
  }
  if (!text.starts_with("tcp://")) {
    fail(w + "='" + t + "' is not tcp://HOST:PORT or file:///DIR");
  }
  std::string_view rest = text.substr(6);
  std::string_view host, port;
  if (rest.starts_with("[")) {  // [IPv6]:port
    const auto close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      fail(w + "='" + t + "': an IPv6 store address is tcp://[ADDRESS]:PORT");
    }
    host = rest.substr(1, close - 1);
    port = rest.substr(close + 2);
  } else {
    const auto colon = rest.rfind(':');
    if (colon == std::string_view::npos) fail(w + "='" + t + "' has no port: tcp://HOST:PORT");
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      fail(w + "='" + t + "': write an IPv6 address in brackets, tcp://[ADDRESS]:PORT");
    }
  }
  if (host.empty()) fail(w + "='" + t + "' has no host: tcp://HOST:PORT");
  int p = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || p < 1 || p > 65535) {
    fail(w + "='" + t + "': the port must be 1..65535");
  }
  a.kind = StoreAddress::Kind::kTcp;
  a.host = std::string(host);
  a.port = static_cast<std::uint16_t>(p);
  return a;
}

LaunchInfo detect_launch(const EnvLookup& env) {
  std::vector<Found> found;
  for (const Launcher& l : kLaunchers) {
    if (auto f = read_launcher(env, l)) found.push_back(*f);
  }
  if (found.empty()) {
    fail("no launcher environment: set WEFT_RANK and WEFT_WORLD_SIZE (and WEFT_STORE), or start the ranks with "
         "torchrun, mpirun or srun");
  }
  const Found& first = found.front();
  for (std::size_t i = 1; i < found.size(); ++i) {
    const Found& other = found[i];
    if (other.rank != first.rank || other.size != first.size) {
      fail(std::string("launch environments disagree: ") + first.launcher->rank + "=" + std::to_string(first.rank) +
           " " + first.launcher->size + "=" + std::to_string(first.size) + " (" + first.launcher->name + ") but " +
           other.launcher->rank + "=" + std::to_string(other.rank) + " " + other.launcher->size + "=" +
           std::to_string(other.size) + " (" + other.launcher->name + ")");
    }
  }
  LaunchInfo info;
  info.rank = first.rank;
  info.size = first.size;
  info.local_rank = first.local_rank;
  info.local_size = first.local_size;
  info.launcher = first.launcher->name;
  if (auto store = env("WEFT_STORE")) {
    info.store = parse_store(*store, "WEFT_STORE");
  } else if (auto master = env("MASTER_ADDR"); master && info.launcher == "torchrun") {
    int port = 0;
    if (auto p = env("WEFT_STORE_PORT")) {
      port = parse_count("WEFT_STORE_PORT", *p);
    } else if (auto mp = env("MASTER_PORT")) {
      port = parse_count("MASTER_PORT", *mp) + 1;  // torch's own store listens on MASTER_PORT
    } else {
      fail("torchrun launch: MASTER_ADDR is set but neither WEFT_STORE_PORT nor MASTER_PORT is");
    }
    info.store = parse_store("tcp://" + (master->find(':') != std::string::npos ? "[" + *master + "]" : *master) +
                                 ":" + std::to_string(port),
                             env("WEFT_STORE_PORT") ? "MASTER_ADDR and WEFT_STORE_PORT" : "MASTER_ADDR and MASTER_PORT + 1");
  }
  if (info.size > 1 && info.store.kind == StoreAddress::Kind::kNone && info.launcher == "Open MPI" &&
      info.local_size == info.size) {
    // Every rank on this host (mpirun -np N without a hostfile): a file store in /tmp named by the
    // job, so `mpirun -np 4 PROGRAM` works with no configuration. Rank 0 removes it at the end.
    if (auto job = env("OMPI_MCA_ess_base_jobid")) {
      info.store = parse_store("file:///tmp/weft-store-ompi-" + *job, "OMPI_MCA_ess_base_jobid");
      info.store_temporary = true;
    }
  }
  if (info.size > 1 && info.store.kind == StoreAddress::Kind::kNone) {
    fail(std::string(first.launcher->name) + " launch of " + std::to_string(info.size) +
         " ranks, but WEFT_STORE is not set: set WEFT_STORE=tcp://HOST:PORT (rank 0 serves it) or "
         "WEFT_STORE=file:///SHARED/DIR" +
         (info.launcher == "torchrun" ? " (or MASTER_ADDR with MASTER_PORT)" : ""));
  }
  return info;
}

LaunchInfo detect_launch() {
  return detect_launch([](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  });
}

}  // namespace weft::collectives
