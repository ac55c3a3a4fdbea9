// Test support: the CPU's feature flags as the kernel lists them (/proc/cpuinfo), read
// independently of the library's own detection, so a test can require that a variant the CPU
// supports is really offered (and never silently skipped).
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace weft::test {

inline bool cpu_has(std::string_view flag) {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    for (std::string w; words >> w;) {
      if (w == flag) return true;
    }
    return false;
  }
  return false;
}

// What libsodium's AES-256-GCM needs (crypto_aead_aes256gcm_is_available).
inline bool cpu_runs_aes_gcm() { return cpu_has("aes") && cpu_has("pclmulqdq"); }

}  // namespace weft::test
