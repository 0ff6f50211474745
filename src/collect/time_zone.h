// TimeZone: UTC offsets of an IANA zone, read from the system's compiled tz database (TZif files under
// /usr/share/zoneinfo, or $TZDIR), including the POSIX rule in the file's footer for dates past its last
// listed transition. Cron schedules use it to turn local wall-clock fire times into instants.
//
// Why our own reader: g++ 12's libstdc++ has no std::chrono tzdb, and switching $TZ around localtime_r
// races with every other thread that reads the environment (spdlog, libcurl).
// Thread-safety: immutable after Load; share freely.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace sluice {

class TimeZone {
 public:
  // Loads zone `name` ("UTC", "Europe/Berlin", "America/New_York"). Invalid when the name is malformed,
  // NotFound when no such zone is installed.
  static Result<std::shared_ptr<const TimeZone>> Load(std::string_view name);

  // Offset from UTC in seconds (east positive) in effect at `utc` (seconds since the epoch).
  int32_t OffsetAt(int64_t utc) const;

  // The instant at which local wall-clock time `local` (seconds since the epoch, as if local time were
  // UTC) occurs. When the wall clock passes it twice (autumn fall-back) the earlier instant; when it never
  // shows it (spring-forward gap) the instant the gap ends, so a job scheduled inside the gap still runs.
  int64_t ToUtc(int64_t local) const;

  const std::string& name() const { return name_; }

  // A POSIX TZ rule such as "EST5EDT,M3.2.0,M11.1.0" (public for tests).
  struct PosixRule {
    struct Date {
      char kind = 'M';  // 'J': Julian day 1-365 without Feb 29; 'D': day 0-365; 'M': month.week.weekday
      int month = 0, week = 0, weekday = 0, day = 0;
      int32_t time = 7200;  // seconds after local midnight (may be negative or past 24h)
    };
    int32_t std_offset = 0;  // east positive, unlike the POSIX text
    std::optional<int32_t> dst_offset;
    Date start, end;
    int32_t OffsetAt(int64_t utc) const;
  };
  static std::optional<PosixRule> ParsePosixRule(std::string_view text);

 private:
  TimeZone() = default;
  static std::shared_ptr<const TimeZone> Fixed(std::string name, int32_t offset);

  std::string name_;
  int32_t initial_offset_ = 0;       // before the first transition
  std::vector<int64_t> transitions_;  // ascending instants
  std::vector<int32_t> offsets_;      // offsets_[i] applies from transitions_[i]
  std::optional<PosixRule> footer_;   // applies after the last transition
};

}  // namespace sluice
