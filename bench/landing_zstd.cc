// landing_zstd: how fast, and how small, the landing's zstd is at each level, on a file of events cut into
// batch-sized pieces as the pipeline lands them (sluice's own ZstdCompress, one core). The landing level is
// chosen from these figures: it must stay much smaller than the input at the least CPU per event, since
// compression runs on the source thread beside parsing.
//   landing_zstd EVENTS.ndjson [BATCH_MB]   (default 58 MB: 245,760 events of ~237 bytes)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "landing/landing_store.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: landing_zstd EVENTS.ndjson [BATCH_MB]\n");
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string data = buffer.str();
  if (data.empty()) {
    std::fprintf(stderr, "landing_zstd: %s is empty or unreadable\n", argv[1]);
    return 1;
  }
  const size_t batch = (argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 58) << 20;
  constexpr int kRounds = 3;  // the best of three: the machine is shared
  std::printf("%-7s %12s %10s %10s\n", "level", "MB/s", "s/GB", "smaller");
  for (int level : {-5, -1, 1, 2, 3, 6}) {
    double best = 1e9;
    size_t compressed = 0;
    for (int round = 0; round < kRounds; ++round) {
      compressed = 0;
      const auto t0 = std::chrono::steady_clock::now();
      for (size_t off = 0; off < data.size(); off += batch)
        compressed += sluice::ZstdCompress(std::string_view(data).substr(off, batch), level).size();
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::printf("%-7d %12.0f %10.2f %9.1fx\n", level, data.size() / 1e6 / best, best / (data.size() / 1e9),
                static_cast<double>(data.size()) / compressed);
  }
  return 0;
}
