// DrainRate: how fast the loader empties its queue, from the time each batch spent loading at the head of
// the queue (an exponentially weighted mean, so it follows a warehouse that slows down or catches up). It
// answers "how long until the queue has room", which is what a refused HTTP client is told in Retry-After.
// Thread-safety: none; the pipeline calls it under its queue mutex.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sluice {

class DrainRate {
 public:
  // Notes that a batch left the queue after `micros` at its head.
  void Drained(int64_t micros) {
    mean_us_ = seen_ ? mean_us_ + kWeight * (static_cast<double>(micros) - mean_us_) : static_cast<double>(micros);
    seen_ = true;
  }

  // Whole seconds, at least 1, until `batches` more batches have left the queue at the measured rate
  // (1 before any batch was measured).
  int64_t SecondsFor(size_t batches) const {
    const double seconds = mean_us_ * static_cast<double>(batches) / 1e6;
    const int64_t whole = static_cast<int64_t>(seconds);
    return whole < 1 ? 1 : whole + (seconds > static_cast<double>(whole) ? 1 : 0);
  }

 private:
  static constexpr double kWeight = 0.2;  // the last ~5 batches dominate
  double mean_us_ = 0;
  bool seen_ = false;
};

}  // namespace sluice
