// Metrics: named counters, gauges and histograms every component bumps, rendered in Prometheus text format
// on /metrics and summarised by `sluice status`. Names follow Prometheus conventions
// (sluice_records_total{stream=..}, sluice_http_request_seconds_bucket{route=..,le=..}).
// Thread-safety: all methods are thread-safe; values are atomics, found under a registry lock.
#pragma once

#include <array>
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
  // Records one observation of `value` (seconds, by convention) in the histogram `name` with `labels`.
  // Buckets are Prometheus' defaults, 5 ms to 10 s, plus +Inf.
  void Observe(const std::string& name, const std::string& labels, double value);
  // Prometheus exposition text.
  std::string Render();

  static constexpr std::array<double, 11> kBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

 private:
  struct Histogram {
    std::array<std::atomic<int64_t>, kBuckets.size() + 1> counts{};  // per bucket, not cumulative; last is +Inf
    std::atomic<double> sum{0};
  };
  std::mutex mu_;
  std::map<std::string, std::map<std::string, std::unique_ptr<std::atomic<int64_t>>>> values_;
  std::map<std::string, std::map<std::string, std::unique_ptr<Histogram>>> histograms_;
};

// Counters of components the pipeline does not own (the collectors' scheduler, which also runs in one-shot
// commands), rendered after the pipeline's own on /metrics. Never destroyed.
Metrics& ProcessMetrics();

}  // namespace sluice
