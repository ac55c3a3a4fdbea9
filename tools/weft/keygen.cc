// `weft keygen identity --out DIR [--name NAME]` and `weft keygen cluster --out FILE`: new key
// files for weft's authenticated handshakes (DESIGN.md §4; formats in weft/crypto/credentials.h).
//
// identity writes DIR/NAME.key (the Ed25519 seed, mode 0600) and DIR/NAME.pub (the public line
// peers put on their allowlists), creating DIR (mode 0700) when it does not exist yet. cluster
// writes one pre-shared key file (mode 0600). Neither ever overwrites a file.
//
// Exit status: 0 written, 1 a file could not be written (it exists, a directory is missing, ...),
// 2 usage.
#include "tools/weft/keygen.h"

#include <CLI/CLI.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>

#include "weft/crypto/credentials.h"

namespace weft::tools {
namespace {

constexpr const char* kHelpForIdentity = "weft keygen identity";
constexpr const char* kHelpForCluster = "weft keygen cluster";
constexpr std::size_t kMaxNameBytes = 64;

struct IdentityOptions {
  std::string out;
  std::string name;  // empty: this host's short name
};

struct ClusterOptions {
  std::string out;
};

// A NAME is used in file names and log lines: letters, digits, '.', '_', '-'; not a dot file.
bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > kMaxNameBytes || name[0] == '.' || name[0] == '-') return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// This host's name up to the first '.', or "" when it does not make a valid NAME.
std::string short_hostname() {
  std::array<char, 256> buf{};
  if (::gethostname(buf.data(), buf.size() - 1) != 0) return {};
  std::string host(buf.data());
  host = host.substr(0, host.find('.'));
  return valid_name(host) ? host : std::string();
}

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

int fail(const std::string& what) {
  std::cerr << "weft keygen: error: " << what << "\n";
  return kExitFailed;
}

int run_identity(const IdentityOptions& o) {
  std::string name = o.name;
  if (name.empty()) {
    name = short_hostname();
    if (name.empty()) {
      throw UsageError("this host's name does not make a key name; give one with --name NAME", kHelpForIdentity);
    }
  }
  if (!valid_name(name)) {
    throw UsageError("--name '" + name + "' is not a valid key name: use 1 to 64 letters, digits, '.', '_' or '-', "
                     "not starting with '.' or '-' (it names the files NAME.key and NAME.pub)",
                     kHelpForIdentity);
  }
  struct stat st {};
  if (::stat(o.out.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) {
      throw UsageError("--out " + o.out + " is not a directory (identity keys go to DIR/NAME.key and DIR/NAME.pub)",
                       kHelpForIdentity);
    }
  } else if (::mkdir(o.out.c_str(), 0700) != 0) {
    const int err = errno;
    return fail("cannot create the --out directory " + o.out + ": " + std::strerror(err) +
                (err == ENOENT ? " (its parent directory must exist)" : ""));
  }

  const std::string base = o.out + (o.out.ends_with('/') ? "" : "/") + name;
  const std::string secret_path = base + ".key";
  const std::string public_path = base + ".pub";
  std::string line;
  try {
    line = crypto::write_identity(secret_path, public_path, name);
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  std::cout << "wrote " << secret_path << "  identity secret (mode 0600): keep it on " << name
            << " only; weft peer/send read it with --identity\n"
            << "wrote " << public_path << "  identity public key:\n\n"
            << line << "\n\n"
            << "append it to every peer's allowlist (the file their --allow names), e.g.\n"
            << "  cat " << public_path << " >> allowlist\n";
  return kExitOk;
}

int run_cluster(const ClusterOptions& o) {
  if (is_directory(o.out)) {
    throw UsageError("--out " + o.out + " is a directory; give the key file's name, e.g. --out " + o.out +
                         (o.out.ends_with('/') ? "" : "/") + "cluster.key",
                     kHelpForCluster);
  }
  try {
    crypto::write_cluster_key(o.out);
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  std::cout << "wrote " << o.out << "  cluster key (mode 0600)\n"
            << "copy it to every member of the cluster over a secure channel (scp, a secrets manager);\n"
            << "weft peer/send read it with --cluster-key. Anyone who holds it can join.\n";
  return kExitOk;
}

}  // namespace

void register_keygen(CLI::App& app, Action& action) {
  CLI::App* cmd =
      app.add_subcommand("keygen", "write key files: a node identity (Ed25519) or a cluster pre-shared key");
  cmd->require_subcommand(1);
  cmd->footer(
      "weft authenticates every handshake with an identity key, a cluster key, or both:\n\n"
      "  identity  one Ed25519 key pair per node. The secret file stays on its node; the public\n"
      "            line goes on every peer's allowlist. A node accepts a handshake signed by a key on\n"
      "            its allowlist, so nodes are added or revoked one at a time.\n"
      "  cluster   one 32-byte pre-shared key held by every member. Simplest for a closed cluster;\n"
      "            anyone with the file is a member, and replacing it means redistributing it.\n\n"
      "Files (text, one line each; an allowlist holds one public line per peer):\n"
      "  NAME.key     weft-identity-secret-v1 <64 hex digits: the Ed25519 seed>       mode 0600\n"
      "  NAME.pub     weft-identity-public-v1 <64 hex digits: the public key> NAME\n"
      "  allowlist    the peers' .pub lines; '#' comments and blank lines allowed; the name is for logs\n"
      "  cluster key  weft-cluster-key-v1 <64 hex digits>                              mode 0600\n"
      "keygen never overwrites a file. weft refuses a secret file other users can read (chmod 600).\n\n"
      "Using them (options of weft peer and weft send):\n"
      "  --identity FILE      this node's NAME.key\n"
      "  --allow FILE         the allowlist: public lines of the peers to accept\n"
      "  --cluster-key FILE   the cluster key file\n\n"
      "Examples:\n"
      "  weft keygen identity --out keys --name node1     # keys/node1.key and keys/node1.pub\n"
      "  weft keygen identity --out keys --name node2\n"
      "  cat keys/node1.pub keys/node2.pub > keys/allowlist\n"
      "  weft peer --listen udp://10.0.0.1:7000 --identity keys/node1.key --allow keys/allowlist  # on node1\n"
      "  weft send --to udp://10.0.0.1:7000 --identity keys/node2.key --allow keys/allowlist     # on node2\n\n"
      "  weft keygen cluster --out cluster.key            # then copy it to every member\n"
      "  weft peer --listen udp://10.0.0.1:7000 --cluster-key cluster.key\n\n"
      "Exit status: 0 written, 1 a file could not be written (e.g. it exists), 2 usage.");

  auto id = std::make_shared<IdentityOptions>();
  CLI::App* identity =
      cmd->add_subcommand("identity", "a node's Ed25519 identity: DIR/NAME.key (secret) and DIR/NAME.pub");
  identity->footer(
      "Writes DIR/NAME.key  'weft-identity-secret-v1 <64 hex digits>'  (mode 0600; stays on this node)\n"
      "   and DIR/NAME.pub  'weft-identity-public-v1 <64 hex digits> NAME'\n"
      "and prints the public line: append it to every peer's allowlist (their --allow FILE). This node\n"
      "then runs with --identity DIR/NAME.key and an --allow FILE of its peers' public lines.\n"
      "DIR is created (mode 0700) if missing; existing files are never overwritten.\n\n"
      "Examples:\n"
      "  weft keygen identity --out keys --name node1\n"
      "  weft keygen identity --out /etc/weft            # NAME: this host's name\n"
      "  cat keys/node1.pub >> keys/allowlist");
  identity->add_option("--out", id->out, "directory for NAME.key and NAME.pub (created if missing)")
      ->required()
      ->type_name("DIR");
  identity->add_option("--name", id->name,
                       "the key's name: file names and the name peers' logs show [default: this host's name]")
      ->type_name("NAME");
  identity->callback([id, &action]() { action = [id]() { return run_identity(*id); }; });

  auto cl = std::make_shared<ClusterOptions>();
  CLI::App* cluster = cmd->add_subcommand("cluster", "a cluster pre-shared key: one file every member holds");
  cluster->footer(
      "Writes FILE  'weft-cluster-key-v1 <64 hex digits>'  (mode 0600; never overwrites).\n"
      "Copy it to every member over a secure channel; each runs with --cluster-key FILE. Anyone\n"
      "who holds it can join, so keep it as secret as an identity key.\n\n"
      "Example:\n"
      "  weft keygen cluster --out cluster.key");
  cluster->add_option("--out", cl->out, "the key file to create")->required()->type_name("FILE");
  cluster->callback([cl, &action]() { action = [cl]() { return run_cluster(*cl); }; });
}

}  // namespace weft::tools
