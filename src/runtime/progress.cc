#include "runtime/progress.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "core/time.h"

namespace sluice {

int64_t SumOverSources(Metrics& metrics, const std::string& name, const Config& config) {
  int64_t total = 0;
  for (const auto& s : config.streams)
    for (const auto& src : s.sources)
      total += metrics.Get(name, "stream=\"" + s.name + "\",source=\"" + src.name + "\"");
  return total;
}

Progress::Progress(Metrics& metrics, const Config& config) : metrics_(metrics), config_(config), tty_(isatty(2)) {}

void Progress::Start() {
  start_ = NowMicros();
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::seconds(1), [this] { return done_; })) Print();
  });
}

void Progress::Finish() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
  }
  cv_.notify_all();
  thread_.join();
  if (tty_) std::fprintf(stderr, "\n");
}

void Progress::Print() {
  double secs = (NowMicros() - start_) / 1e6;
  int64_t rows = SumOverSources(metrics_, "sluice_rows_loaded_total", config_);
  int64_t dead = SumOverSources(metrics_, "sluice_dead_letters_total", config_);
  int64_t batches = SumOverSources(metrics_, "sluice_batches_total", config_);
  std::fprintf(stderr, "%s[sluice] %.0fs  loaded %lld  dead-lettered %lld  batches %lld  (%.0f rows/s)%s",
               tty_ ? "\r" : "", secs, static_cast<long long>(rows), static_cast<long long>(dead),
               static_cast<long long>(batches), secs > 0 ? rows / secs : 0.0, tty_ ? "   " : "\n");
  std::fflush(stderr);
}

}  // namespace sluice
