// Metrics: named counters and gauges every component bumps, rendered in Prometheus text format on /metrics
// and summarised by `sluice status`. Names follow Prometheus conventions (sluice_records_total{stream=..}).
// Thread-safety: all methods are thread-safe; counters are atomics behind a registry lock taken only on
// first use of a name.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace sluice {

class Metrics {
 public:
  // The counter for `name` with `labels` (e.g. `stream="tracking"`), created at zero on first use.
  std::atomic<int64_t>& Counter(const std::string& name, const std::string& labels = "");
  void Add(const std::string& name, const std::string& labels, int64_t delta) { Counter(name, labels) += delta; }
  void Set(const std::string& name, const std::string& labels, int64_t value) { Counter(name, labels) = value; }
  int64_t Get(const std::string& name, const std::string& labels = "");
  // Prometheus exposition text.
  std::string Render();

 private:
  std::mutex mu_;
  std::map<std::string, std::map<std::string, std::unique_ptr<std::atomic<int64_t>>>> values_;
};

}  // namespace sluice
