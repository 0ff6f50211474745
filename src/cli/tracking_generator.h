// TrackingGenerator: Teads-like video-ad tracking events for demos, tests and benchmarks. Sessions walk the
// player funnel (start, firstQuartile, midpoint, thirdQuartile, complete, with clicks and an occasional
// impression/pause/mute), ads and websites are Zipf-skewed (a few take most traffic), and about 2% of events
// arrive late by up to 3 hours. Deterministic for a seed. Not thread-safe.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace sluice {

struct TrackingGeneratorOptions {
  uint64_t seed = 42;
  int64_t start_us = 0;              // event time of the first event
  int64_t events_per_second = 2000;  // event-time density
  double late_fraction = 0.02;
  int64_t max_late_us = 3LL * 3600 * 1'000'000;
  int ads = 1000, websites = 400;
};

class TrackingGenerator {
 public:
  explicit TrackingGenerator(TrackingGeneratorOptions options);
  // Appends one event as a JSON line (with '\n') to `out`.
  void Next(std::string& out);

 private:
  int Zipf(const std::vector<double>& cdf);
  TrackingGeneratorOptions opt_;
  std::mt19937_64 rng_;
  std::vector<double> ad_cdf_, site_cdf_;
  int64_t clock_us_;
  // The session being played.
  int stage_ = 99;
  int last_stage_ = 0;
  int ad_ = 0, site_ = 0, ua_ = 0, country_ = 0;
  uint64_t session_ = 0;
};

}  // namespace sluice
