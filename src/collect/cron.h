// CronSchedule: when a collector fires. Classic 5-field cron (minute hour day-of-month month day-of-week)
// with `*`, ranges `a-b`, steps `*/n` `a-b/n` `a/n`, lists `a,b`, month names JAN..DEC, day names SUN..SAT
// (0 and 7 are both Sunday), and the shorthands @hourly @daily @midnight @weekly @monthly @yearly @annually,
// evaluated in an IANA time zone (UTC by default).
//
// Day matching follows Vixie cron: when both day-of-month and day-of-week are restricted (neither field
// starts with `*`), a day matches if EITHER matches ("0 0 13 * FRI" fires on every 13th and every Friday);
// otherwise both must match.
// Daylight saving: each local wall-clock time fires at most once. A time the clock skips (02:30 on a
// spring-forward night) fires at the instant the gap ends; a time the clock shows twice fires the first time.
// Thread-safety: immutable after Parse; share freely.
#pragma once

#include <bitset>
#include <memory>
#include <string>
#include <string_view>

#include "collect/time_zone.h"
#include "core/clock.h"
#include "core/status.h"

namespace sluice {

class CronSchedule {
 public:
  // Parses `expr` to be evaluated in zone `tz`. Invalid errors quote the expression and name the field and
  // the token at fault, e.g. `cron "61 * * * *": minute: 61 is out of range 0-59`. Schedules that can never
  // fire ("0 0 30 2 *") are rejected too.
  static Result<CronSchedule> Parse(std::string_view expr, std::string_view tz = "UTC");

  // The first fire time strictly after `t` (always a whole minute of local time).
  TimePoint NextAfter(TimePoint t) const;

  const std::string& expression() const { return expr_; }
  const std::string& time_zone() const { return tz_->name(); }

 private:
  CronSchedule() = default;
  bool DayMatches(int month_day, int weekday) const;

  std::string expr_;
  std::shared_ptr<const TimeZone> tz_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;    // 1-31
  std::bitset<13> months_;  // 1-12
  std::bitset<7> weekdays_; // 0-6, Sunday = 0
  bool days_star_ = false;      // day-of-month field starts with '*'
  bool weekdays_star_ = false;  // day-of-week field starts with '*'
};

}  // namespace sluice
