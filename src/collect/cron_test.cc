#include "collect/cron.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/time.h"

namespace sluice {
namespace {

TimePoint At(const std::string& iso) {
  auto micros = ParseIsoMicros(iso);
  EXPECT_TRUE(micros.has_value()) << iso;
  return TimePoint(std::chrono::microseconds(micros.value_or(0)));
}

std::string Iso(TimePoint t) {
  if (t == TimePoint::max()) return "never";
  return FormatIsoMicros(std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count());
}

struct FireCase {
  const char* expr;
  const char* tz;
  const char* from;
  std::vector<std::string> expected;  // UTC
};

// Each case reads as: "EXPR in TZ, starting after FROM, fires at ...".
const FireCase kFireCases[] = {
    {"*/15 * * * *", "UTC", "2024-01-01T00:07:00Z",
     {"2024-01-01T00:15:00Z", "2024-01-01T00:30:00Z", "2024-01-01T00:45:00Z", "2024-01-01T01:00:00Z"}},
    {"5-20/5 3,4 * * *", "UTC", "2024-01-01T00:00:00Z",
     {"2024-01-01T03:05:00Z", "2024-01-01T03:10:00Z", "2024-01-01T03:15:00Z", "2024-01-01T03:20:00Z",
      "2024-01-01T04:05:00Z"}},
    {"50/5 * * * *", "UTC", "2024-01-01T00:00:00Z",
     {"2024-01-01T00:50:00Z", "2024-01-01T00:55:00Z", "2024-01-01T01:50:00Z"}},
    // Month ends: the 31st skips the short months.
    {"0 0 31 * *", "UTC", "2024-01-31T00:00:00Z",
     {"2024-03-31T00:00:00Z", "2024-05-31T00:00:00Z", "2024-07-31T00:00:00Z", "2024-08-31T00:00:00Z",
      "2024-10-31T00:00:00Z"}},
    // Crossing a year end.
    {"59 23 31 DEC *", "UTC", "2023-06-01T00:00:00Z", {"2023-12-31T23:59:00Z", "2024-12-31T23:59:00Z"}},
    // Feb 29 only in leap years, and 2100 is not one.
    {"0 12 29 2 *", "UTC", "2023-01-01T00:00:00Z",
     {"2024-02-29T12:00:00Z", "2028-02-29T12:00:00Z", "2032-02-29T12:00:00Z"}},
    {"0 0 29 FEB *", "UTC", "2097-01-01T00:00:00Z", {"2104-02-29T00:00:00Z"}},
    // Day-of-month AND day-of-week both restricted: either matches (Vixie). 2024-09-01 is a Sunday.
    {"0 0 13 * FRI", "UTC", "2024-09-01T00:00:00Z",
     {"2024-09-06T00:00:00Z", "2024-09-13T00:00:00Z", "2024-09-20T00:00:00Z", "2024-09-27T00:00:00Z",
      "2024-10-04T00:00:00Z", "2024-10-11T00:00:00Z", "2024-10-13T00:00:00Z", "2024-10-18T00:00:00Z"}},
    // A day-of-month starting with '*' counts as unrestricted: both must match (Mondays on 1, 11, 21, 31).
    {"0 0 */10 * MON", "UTC", "2024-09-01T00:00:00Z",
     {"2024-10-21T00:00:00Z", "2024-11-11T00:00:00Z", "2025-03-31T00:00:00Z"}},
    // Names, any case; weekday ranges; 7 is Sunday.
    {"0 9 * * mon-fri", "UTC", "2024-09-06T10:00:00Z",
     {"2024-09-09T09:00:00Z", "2024-09-10T09:00:00Z", "2024-09-11T09:00:00Z"}},
    {"0 0 * * 7", "UTC", "2024-09-01T00:00:00Z", {"2024-09-08T00:00:00Z", "2024-09-15T00:00:00Z"}},
    {"0 0 * * 5-7", "UTC", "2024-09-05T12:00:00Z",
     {"2024-09-06T00:00:00Z", "2024-09-07T00:00:00Z", "2024-09-08T00:00:00Z", "2024-09-13T00:00:00Z"}},
    {"0 6 1 jan,Jul *", "UTC", "2024-02-01T00:00:00Z", {"2024-07-01T06:00:00Z", "2025-01-01T06:00:00Z"}},
    // Shorthands.
    {"@hourly", "UTC", "2024-01-01T10:00:00Z", {"2024-01-01T11:00:00Z", "2024-01-01T12:00:00Z"}},
    {"@daily", "UTC", "2024-02-28T10:00:00Z", {"2024-02-29T00:00:00Z", "2024-03-01T00:00:00Z"}},
    {"@midnight", "UTC", "2024-12-31T23:59:59Z", {"2025-01-01T00:00:00Z"}},
    {"@weekly", "UTC", "2024-09-03T00:00:00Z", {"2024-09-08T00:00:00Z", "2024-09-15T00:00:00Z"}},
    {"@monthly", "UTC", "2024-01-15T00:00:00Z", {"2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z"}},
    {"@yearly", "UTC", "2024-01-01T00:00:00Z", {"2025-01-01T00:00:00Z"}},
    // Time zones: local 03:00 in Berlin is 02:00Z in winter, 01:00Z in summer.
    {"0 3 * * *", "Europe/Berlin", "2024-01-10T00:00:00Z", {"2024-01-10T02:00:00Z", "2024-01-11T02:00:00Z"}},
    {"0 3 * * *", "Europe/Berlin", "2024-07-10T00:00:00Z", {"2024-07-10T01:00:00Z"}},
    // New York spring forward (2024-03-10, 02:00 EST -> 03:00 EDT): 02:30 does not exist that night and
    // fires when the gap ends, 03:00 EDT.
    {"30 2 * * *", "America/New_York", "2024-03-09T00:00:00Z",
     {"2024-03-09T07:30:00Z", "2024-03-10T07:00:00Z", "2024-03-11T06:30:00Z"}},
    // Fall back (2024-11-03, 02:00 EDT -> 01:00 EST): 01:30 happens twice and fires once, the first time.
    {"30 1 * * *", "America/New_York", "2024-11-02T00:00:00Z",
     {"2024-11-02T05:30:00Z", "2024-11-03T05:30:00Z", "2024-11-04T06:30:00Z"}},
    {"0 * * * *", "America/New_York", "2024-11-03T03:30:00Z",
     {"2024-11-03T04:00:00Z", "2024-11-03T05:00:00Z", "2024-11-03T07:00:00Z", "2024-11-03T08:00:00Z"}},
    // Past the zone file's last listed transition the footer rule decides (US: second Sunday of March).
    {"0 12 * * *", "America/New_York", "2040-03-10T00:00:00Z", {"2040-03-10T17:00:00Z", "2040-03-11T16:00:00Z"}},
    // Southern hemisphere: Sydney's DST spans the new year (ends first Sunday of April, 03:00 local).
    {"0 12 * * *", "Australia/Sydney", "2024-04-05T12:00:00Z", {"2024-04-06T01:00:00Z", "2024-04-07T02:00:00Z"}},
    {"0 12 15 1,7 *", "Australia/Sydney", "2040-01-01T00:00:00Z", {"2040-01-15T01:00:00Z", "2040-07-15T02:00:00Z"}},
};

TEST(CronScheduleTest, FireTimesTable) {
  for (const FireCase& c : kFireCases) {
    auto schedule = CronSchedule::Parse(c.expr, c.tz);
    ASSERT_TRUE(schedule.ok()) << c.expr << ": " << schedule.status().ToString();
    std::vector<std::string> got;
    TimePoint t = At(c.from);
    for (size_t i = 0; i < c.expected.size(); ++i) {
      t = schedule->NextAfter(t);
      got.push_back(Iso(t));
    }
    EXPECT_EQ(got, c.expected) << "\"" << c.expr << "\" in " << c.tz << " after " << c.from;
  }
}

TEST(CronScheduleTest, NextAfterIsStrictlyAfterEvenOnAFireTime) {
  auto s = CronSchedule::Parse("0 * * * *");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Iso(s->NextAfter(At("2024-01-01T10:00:00Z"))), "2024-01-01T11:00:00Z");
  EXPECT_EQ(Iso(s->NextAfter(At("2024-01-01T09:59:59.5Z"))), "2024-01-01T10:00:00Z");
}

TEST(CronScheduleTest, DefaultsToUtcAndKeepsTheExpression) {
  auto s = CronSchedule::Parse("  @daily ");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->time_zone(), "UTC");
  EXPECT_EQ(s->expression(), "@daily");
}

struct BadCase {
  const char* expr;
  const char* tz;
  const char* message;
};

const BadCase kBadCases[] = {
    {"61 * * * *", "UTC", "cron \"61 * * * *\": minute: 61 is out of range 0-59"},
    {"* 24 * * *", "UTC", "cron \"* 24 * * *\": hour: 24 is out of range 0-23"},
    {"* * 0 * *", "UTC", "cron \"* * 0 * *\": day-of-month: 0 is out of range 1-31"},
    {"* * * 13 *", "UTC", "cron \"* * * 13 *\": month: 13 is out of range 1-12"},
    {"* * * * 8", "UTC", "cron \"* * * * 8\": day-of-week: 8 is out of range 0-7"},
    {"* * * FOO *", "UTC",
     "cron \"* * * FOO *\": month: unknown value \"FOO\" (expected a number or a name like JAN)"},
    {"* * * * MONDAY", "UTC",
     "cron \"* * * * MONDAY\": day-of-week: unknown value \"MONDAY\" (expected a number or a name like SUN)"},
    {"x * * * *", "UTC", "cron \"x * * * *\": minute: unknown value \"x\" (expected a number)"},
    {"*/0 * * * *", "UTC", "cron \"*/0 * * * *\": minute: step 0 in \"*/0\""},
    {"*/ * * * *", "UTC", "cron \"*/ * * * *\": minute: missing step after '/' in \"*/\""},
    {"5-2 * * * *", "UTC", "cron \"5-2 * * * *\": minute: range \"5-2\" goes backwards"},
    {"1,,2 * * * *", "UTC", "cron \"1,,2 * * * *\": minute: empty list item in \"1,,2\""},
    {"* * * *", "UTC",
     "cron \"* * * *\": expected 5 fields (minute hour day-of-month month day-of-week), got 4"},
    {"* * * * * *", "UTC",
     "cron \"* * * * * *\": expected 5 fields (minute hour day-of-month month day-of-week), got 6"},
    {"", "UTC", "cron \"\": expected 5 fields (minute hour day-of-month month day-of-week), got 0"},
    {"@fortnightly", "UTC",
     "cron \"@fortnightly\": unknown shorthand (expected @hourly, @daily, @midnight, @weekly, @monthly, "
     "@yearly or @annually)"},
    {"0 0 30 2 *", "UTC", "cron \"0 0 30 2 *\": day-of-month \"30\" never occurs in month \"2\""},
    {"0 0 31 4,6,9,11 *", "UTC",
     "cron \"0 0 31 4,6,9,11 *\": day-of-month \"31\" never occurs in month \"4,6,9,11\""},
    {"@daily", "../etc/passwd", "cron \"@daily\": time zone \"../etc/passwd\": not an IANA zone name"},
};

TEST(CronScheduleTest, InvalidExpressionsNameFieldAndToken) {
  for (const BadCase& c : kBadCases) {
    auto s = CronSchedule::Parse(c.expr, c.tz);
    ASSERT_FALSE(s.ok()) << c.expr;
    EXPECT_TRUE(s.status().IsInvalid()) << c.expr;
    EXPECT_EQ(s.status().message(), c.message);
  }
}

TEST(CronScheduleTest, UnknownTimeZoneIsNotFound) {
  auto s = CronSchedule::Parse("@daily", "Mars/Olympus_Mons");
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.status().IsNotFound());
  EXPECT_NE(s.status().message().find("Mars/Olympus_Mons"), std::string::npos);
}

// Dom and dow both restricted but the dom impossible: the weekday side still fires, like Vixie cron.
TEST(CronScheduleTest, ImpossibleDayOfMonthStillFiresOnTheWeekday) {
  auto s = CronSchedule::Parse("0 0 30 2 MON");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(Iso(s->NextAfter(At("2024-02-01T00:00:00Z"))), "2024-02-05T00:00:00Z");
}

TEST(TimeZoneTest, PosixRuleParsing) {
  auto ny = TimeZone::ParsePosixRule("EST5EDT,M3.2.0,M11.1.0");
  ASSERT_TRUE(ny.has_value());
  EXPECT_EQ(ny->std_offset, -5 * 3600);
  EXPECT_EQ(ny->dst_offset, -4 * 3600);
  auto fixed = TimeZone::ParsePosixRule("<+0530>-5:30");
  ASSERT_TRUE(fixed.has_value());
  EXPECT_EQ(fixed->std_offset, 5 * 3600 + 1800);
  EXPECT_FALSE(fixed->dst_offset.has_value());
  EXPECT_FALSE(TimeZone::ParsePosixRule("E5").has_value());
  EXPECT_FALSE(TimeZone::ParsePosixRule("EST5EDT,M13.1.0,M11.1.0").has_value());
}

TEST(TimeZoneTest, OffsetsAroundTransitions) {
  auto tz = TimeZone::Load("America/New_York");
  ASSERT_TRUE(tz.ok()) << tz.status().ToString();
  const int64_t spring = ToUnixSeconds(At("2024-03-10T07:00:00Z"));
  EXPECT_EQ((*tz)->OffsetAt(spring - 1), -5 * 3600);
  EXPECT_EQ((*tz)->OffsetAt(spring), -4 * 3600);
  // India has no DST and a half-hour offset.
  auto kolkata = TimeZone::Load("Asia/Kolkata");
  ASSERT_TRUE(kolkata.ok());
  EXPECT_EQ((*kolkata)->OffsetAt(spring), 5 * 3600 + 1800);
}

}  // namespace
}  // namespace sluice
