// Clock: the one place the scheduler and the HTTP client ask what time it is and wait. Production code uses
// Clock::Real(); tests pass a FakeClock so a "wait an hour for the rate limit to reset" finishes at once and
// fire times can be checked at any date.
// Thread-safety: both implementations are safe to call from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <thread>

namespace sluice {

using TimePoint = std::chrono::system_clock::time_point;

// Seconds since the Unix epoch, the unit HTTP rate-limit headers speak.
inline int64_t ToUnixSeconds(TimePoint t) {
  return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}
inline TimePoint FromUnixSeconds(int64_t s) { return TimePoint(std::chrono::seconds(s)); }

class Clock {
 public:
  virtual ~Clock() = default;

  // The current wall-clock time.
  virtual TimePoint Now() const = 0;

  // Blocks the calling thread for `d` (a fake clock moves its time forward instead and returns at once).
  virtual void SleepFor(std::chrono::nanoseconds d) = 0;

  void SleepUntil(TimePoint t) {
    TimePoint now = Now();
    if (t > now) SleepFor(t - now);
  }

  // The process-wide real clock; never null, never destroyed.
  static Clock* Real();
};

class RealClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
  void SleepFor(std::chrono::nanoseconds d) override { std::this_thread::sleep_for(d); }
};

inline Clock* Clock::Real() {
  static RealClock* clock = new RealClock();  // leaked on purpose: usable during static destruction
  return clock;
}

// A clock whose time only moves when told to. SleepFor advances it by the requested amount, so code that
// waits runs at full speed while still seeing time pass; the total is kept so tests can assert how long
// the code *would* have waited.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start = FromUnixSeconds(1'700'000'000)) : now_(start) {}

  TimePoint Now() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return now_;
  }
  void SleepFor(std::chrono::nanoseconds d) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (d.count() <= 0) return;
    now_ += std::chrono::duration_cast<TimePoint::duration>(d);
    slept_ += d;
    ++sleeps_;
  }
  // Moves time forward without counting it as a wait (the world moving on between ticks).
  void Advance(std::chrono::nanoseconds d) {
    std::lock_guard<std::mutex> lock(mu_);
    now_ += std::chrono::duration_cast<TimePoint::duration>(d);
  }
  void Set(TimePoint t) {
    std::lock_guard<std::mutex> lock(mu_);
    now_ = t;
  }
  // Sum of all SleepFor durations, and how many there were.
  std::chrono::nanoseconds TotalSlept() const {
    std::lock_guard<std::mutex> lock(mu_);
    return slept_;
  }
  int Sleeps() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sleeps_;
  }

 private:
  mutable std::mutex mu_;
  TimePoint now_;
  std::chrono::nanoseconds slept_{0};
  int sleeps_ = 0;
};

}  // namespace sluice
