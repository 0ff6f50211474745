// Progress: the line a long-running ingest prints every second on stderr (records loaded, dead-lettered,
// batches, rate), from the pipeline's counters; in place on a terminal, one line a second otherwise.
// Thread-safety: Start and Finish from one thread; prints from its own.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "core/config.h"
#include "core/metrics.h"

namespace sluice {

// The sum of counter `name` over every source of `config`.
int64_t SumOverSources(Metrics& metrics, const std::string& name, const Config& config);

class Progress {
 public:
  Progress(Metrics& metrics, const Config& config);
  ~Progress() { Finish(); }
  void Start();
  void Finish();

 private:
  void Print();

  Metrics& metrics_;
  const Config& config_;
  bool tty_;
  int64_t start_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};

}  // namespace sluice
