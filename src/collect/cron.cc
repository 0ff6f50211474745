#include "collect/cron.h"

#include <array>
#include <cctype>
#include <chrono>
#include <vector>

#include "core/time.h"

namespace sluice {
namespace {

struct FieldSpec {
  const char* name;
  int min, max;
  const char* const* names;  // 3-letter names for min, min+1, ... or null
  int name_base;             // value of names[0]
};

constexpr const char* kMonthNames[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                       "JUL", "AUG", "SEP", "OCT", "NOV", "DEC", nullptr};
constexpr const char* kDayNames[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", nullptr};

// Day-of-week accepts 7 for Sunday, folded onto 0 after expansion.
constexpr FieldSpec kFields[] = {
    {"minute", 0, 59, nullptr, 0},          {"hour", 0, 23, nullptr, 0},
    {"day-of-month", 1, 31, nullptr, 0},    {"month", 1, 12, kMonthNames, 1},
    {"day-of-week", 0, 7, kDayNames, 0},
};

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

class FieldParser {
 public:
  FieldParser(const FieldSpec& spec, std::string_view expr) : spec_(spec), expr_(expr) {}

  Status Error(const std::string& problem) const {
    return Status::Invalid("cron " + Quote(expr_) + ": " + spec_.name + ": " + problem);
  }

  Result<int> Value(std::string_view token, std::string_view item) const {
    if (token.empty()) return Error("empty value in " + Quote(item));
    if (std::isdigit(static_cast<unsigned char>(token[0]))) {
      int v = 0;
      for (char c : token) {
        if (!std::isdigit(static_cast<unsigned char>(c)) || v > 1000) return Error("bad number " + Quote(token));
        v = v * 10 + (c - '0');
      }
      if (v < spec_.min || v > spec_.max) {
        return Error(std::string(token) + " is out of range " + std::to_string(spec_.min) + "-" +
                     std::to_string(spec_.max));
      }
      return v;
    }
    if (spec_.names && token.size() == 3) {
      for (int i = 0; spec_.names[i]; ++i) {
        bool same = true;
        for (int k = 0; k < 3; ++k) same &= std::toupper(static_cast<unsigned char>(token[k])) == spec_.names[i][k];
        if (same) return spec_.name_base + i;
      }
    }
    return Error("unknown value " + Quote(token) +
                 (spec_.names ? std::string(" (expected a number or a name like ") + spec_.names[0] + ")"
                              : std::string(" (expected a number)")));
  }

  // Sets the bits of one comma-separated item.
  Status Item(std::string_view item, std::vector<bool>* bits) const {
    auto parts = Split(item, '/');
    if (parts.size() > 2) return Error("more than one '/' in " + Quote(item));
    int step = 1;
    if (parts.size() == 2) {
      const std::string_view s = parts[1];
      if (s.empty()) return Error("missing step after '/' in " + Quote(item));
      step = 0;
      for (char c : s) {
        if (!std::isdigit(static_cast<unsigned char>(c)) || step > 1000) return Error("bad step " + Quote(s) + " in " + Quote(item));
        step = step * 10 + (c - '0');
      }
      if (step == 0) return Error("step 0 in " + Quote(item));
    }
    int lo, hi;
    const std::string_view base = parts[0];
    if (base == "*") {
      lo = spec_.min;
      hi = spec_.max == 7 ? 6 : spec_.max;  // "*" in day-of-week is 0-6, not 0-7 (Sunday twice)
    } else if (size_t dash = base.find('-'); dash != std::string_view::npos) {
      ASSIGN_OR_RETURN(lo, Value(base.substr(0, dash), item));
      ASSIGN_OR_RETURN(hi, Value(base.substr(dash + 1), item));
      if (lo > hi) return Error("range " + Quote(base) + " goes backwards");
    } else {
      ASSIGN_OR_RETURN(lo, Value(base, item));
      hi = parts.size() == 2 ? spec_.max : lo;  // "5/15" means 5, 20, 35, 50
    }
    for (int v = lo; v <= hi; v += step) (*bits)[v] = true;
    return Status::Ok();
  }

  Result<std::vector<bool>> Field(std::string_view field) const {
    std::vector<bool> bits(spec_.max + 1, false);
    for (std::string_view item : Split(field, ',')) {
      if (item.empty()) return Error("empty list item in " + Quote(field));
      RETURN_IF_ERROR(Item(item, &bits));
    }
    return bits;
  }

 private:
  const FieldSpec& spec_;
  std::string_view expr_;
};

std::string_view Shorthand(std::string_view expr) {
  static constexpr std::pair<const char*, const char*> kMacros[] = {
      {"@hourly", "0 * * * *"},  {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"}, {"@weekly", "0 0 * * 0"},
      {"@monthly", "0 0 1 * *"}, {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"},
  };
  for (auto [name, fields] : kMacros) {
    if (expr == name) return fields;
  }
  return {};
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

constexpr int kMaxDaysInMonth[] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

}  // namespace

Result<CronSchedule> CronSchedule::Parse(std::string_view raw, std::string_view tz_name) {
  const std::string_view expr = Trim(raw);
  std::string_view fields_text = expr;
  if (!expr.empty() && expr[0] == '@') {
    fields_text = Shorthand(expr);
    if (fields_text.empty()) {
      return Status::Invalid("cron " + Quote(expr) +
                             ": unknown shorthand (expected @hourly, @daily, @midnight, @weekly, @monthly, "
                             "@yearly or @annually)");
    }
  }
  std::vector<std::string_view> fields;
  for (size_t i = 0; i < fields_text.size();) {
    while (i < fields_text.size() && std::isspace(static_cast<unsigned char>(fields_text[i]))) ++i;
    size_t start = i;
    while (i < fields_text.size() && !std::isspace(static_cast<unsigned char>(fields_text[i]))) ++i;
    if (i > start) fields.push_back(fields_text.substr(start, i - start));
  }
  if (fields.size() != 5) {
    return Status::Invalid("cron " + Quote(expr) + ": expected 5 fields (minute hour day-of-month month " +
                           "day-of-week), got " + std::to_string(fields.size()));
  }
  CronSchedule s;
  s.expr_ = std::string(expr);
  std::vector<bool> bits[5];
  for (int f = 0; f < 5; ++f) {
    ASSIGN_OR_RETURN(bits[f], FieldParser(kFields[f], expr).Field(fields[f]));
  }
  for (int v = 0; v < 60; ++v) s.minutes_[v] = bits[0][v];
  for (int v = 0; v < 24; ++v) s.hours_[v] = bits[1][v];
  for (int v = 1; v <= 31; ++v) s.days_[v] = bits[2][v];
  for (int v = 1; v <= 12; ++v) s.months_[v] = bits[3][v];
  for (int v = 0; v <= 6; ++v) s.weekdays_[v] = bits[4][v];
  if (bits[4][7]) s.weekdays_[0] = true;
  s.days_star_ = fields[2][0] == '*';
  s.weekdays_star_ = fields[4][0] == '*';

  // Under the AND rule only the day-of-month/month pairing can make a schedule impossible (every date falls
  // on every weekday sooner or later); under the OR rule the weekday side always fires.
  if (s.days_star_ || s.weekdays_star_) {
    bool possible = false;
    for (int m = 1; m <= 12 && !possible; ++m) {
      for (int d = 1; d <= kMaxDaysInMonth[m] && s.months_[m]; ++d) possible |= s.days_[d];
    }
    if (!possible) {
      return Status::Invalid("cron " + Quote(expr) + ": day-of-month " + Quote(fields[2]) +
                             " never occurs in month " + Quote(fields[3]));
    }
  }

  auto tz = TimeZone::Load(tz_name.empty() ? "UTC" : tz_name);
  if (!tz.ok()) return tz.status().WithContext("cron " + Quote(expr));
  s.tz_ = *tz;
  return s;
}

bool CronSchedule::DayMatches(int month_day, int weekday) const {
  if (days_star_ || weekdays_star_) return days_[month_day] && weekdays_[weekday];
  return days_[month_day] || weekdays_[weekday];
}

TimePoint CronSchedule::NextAfter(TimePoint t) const {
  using namespace std::chrono;
  const int64_t after = ToUnixSeconds(t);
  const int64_t start_local = after + tz_->OffsetAt(after);
  int64_t local = FloorDiv(start_local, 60) * 60 + 60;
  // Parse rejected impossible schedules; the longest real wait is 8 years (Feb 29 across 2100).
  const int64_t limit = start_local + int64_t{9} * 366 * 86400;
  while (local < limit) {
    const int64_t day = FloorDiv(local, 86400);
    const int64_t second_of_day = local - day * 86400;
    const year_month_day ymd{sys_days{days{day}}};
    const int y = static_cast<int>(ymd.year());
    const unsigned m = static_cast<unsigned>(ymd.month());
    const unsigned d = static_cast<unsigned>(ymd.day());
    const int hour = static_cast<int>(second_of_day / 3600);
    const int minute = static_cast<int>(second_of_day % 3600 / 60);
    if (!months_[m]) {
      local = (m == 12 ? DaysFromCivil(y + 1, 1, 1) : DaysFromCivil(y, m + 1, 1)) * 86400;
      continue;
    }
    const int weekday = static_cast<int>(((day + 4) % 7 + 7) % 7);  // 1970-01-01 was a Thursday
    if (!DayMatches(static_cast<int>(d), weekday)) {
      local = (day + 1) * 86400;
      continue;
    }
    if (!hours_[hour]) {
      local = day * 86400 + (hour + 1) * 3600;
      continue;
    }
    if (!minutes_[minute]) {
      local += 60;
      continue;
    }
    const int64_t utc = tz_->ToUtc(local);
    if (utc > after) return FromUnixSeconds(utc);
    local += 60;  // this wall time already passed (a repeated autumn hour, or a gap's end we are past)
  }
  return TimePoint::max();
}

}  // namespace sluice
