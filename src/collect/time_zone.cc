#include "collect/time_zone.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/time.h"

namespace sluice {
namespace {

constexpr int64_t kSecondsPerDay = 86400;

int64_t FloorDivS(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

int64_t YearOf(int64_t utc) {
  // Civil year of a UTC instant; Hinnant's days->civil inverse, year only.
  int64_t z = FloorDivS(utc, kSecondsPerDay) + 719468;
  int64_t era = FloorDivS(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  return yoe + era * 400 + (m <= 2);
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// Local seconds (since the epoch, local wall clock) at which rule date `d` happens in year `y`.
int64_t RuleLocalTime(const TimeZone::PosixRule::Date& d, int64_t y) {
  int64_t day;
  if (d.kind == 'J') {
    day = DaysFromCivil(y, 1, 1) + d.day - 1;
    if (IsLeap(y) && d.day >= 60) ++day;  // Jn never counts Feb 29
  } else if (d.kind == 'D') {
    day = DaysFromCivil(y, 1, 1) + d.day;
  } else {
    int64_t first = DaysFromCivil(y, d.month, 1);
    int64_t first_wd = ((first + 4) % 7 + 7) % 7;  // 0 = Sunday; 1970-01-01 was a Thursday
    int64_t day_of = first + ((d.weekday - first_wd) % 7 + 7) % 7 + (d.week - 1) * 7;
    if (d.week == 5) {
      int64_t next_month = d.month == 12 ? DaysFromCivil(y + 1, 1, 1) : DaysFromCivil(y, d.month + 1, 1);
      while (day_of >= next_month) day_of -= 7;
    }
    day = day_of;
  }
  return day * kSecondsPerDay + d.time;
}

// --- POSIX TZ text parsing -----------------------------------------------------------------------------

bool ParseName(std::string_view& s) {
  if (!s.empty() && s[0] == '<') {
    size_t close = s.find('>');
    if (close == std::string_view::npos) return false;
    s.remove_prefix(close + 1);
    return true;
  }
  size_t n = 0;
  while (n < s.size() && std::isalpha(static_cast<unsigned char>(s[n]))) ++n;
  if (n < 3) return false;
  s.remove_prefix(n);
  return true;
}

bool ParseNumber(std::string_view& s, int* out) {
  size_t n = 0;
  int v = 0;
  while (n < s.size() && std::isdigit(static_cast<unsigned char>(s[n]))) v = v * 10 + (s[n++] - '0');
  if (n == 0) return false;
  s.remove_prefix(n);
  *out = v;
  return true;
}

// [+-]hh[:mm[:ss]] in seconds, sign as written.
bool ParseHms(std::string_view& s, int32_t* out) {
  int sign = 1;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    sign = s[0] == '-' ? -1 : 1;
    s.remove_prefix(1);
  }
  int h = 0, m = 0, sec = 0;
  if (!ParseNumber(s, &h)) return false;
  if (!s.empty() && s[0] == ':') {
    s.remove_prefix(1);
    if (!ParseNumber(s, &m)) return false;
    if (!s.empty() && s[0] == ':') {
      s.remove_prefix(1);
      if (!ParseNumber(s, &sec)) return false;
    }
  }
  *out = sign * (h * 3600 + m * 60 + sec);
  return true;
}

bool ParseRuleDate(std::string_view& s, TimeZone::PosixRule::Date* d) {
  if (s.empty()) return false;
  if (s[0] == 'M') {
    s.remove_prefix(1);
    d->kind = 'M';
    if (!ParseNumber(s, &d->month) || s.empty() || s[0] != '.') return false;
    s.remove_prefix(1);
    if (!ParseNumber(s, &d->week) || s.empty() || s[0] != '.') return false;
    s.remove_prefix(1);
    if (!ParseNumber(s, &d->weekday)) return false;
    if (d->month < 1 || d->month > 12 || d->week < 1 || d->week > 5 || d->weekday > 6) return false;
  } else if (s[0] == 'J') {
    s.remove_prefix(1);
    d->kind = 'J';
    if (!ParseNumber(s, &d->day) || d->day < 1 || d->day > 365) return false;
  } else {
    d->kind = 'D';
    if (!ParseNumber(s, &d->day) || d->day > 365) return false;
  }
  d->time = 7200;
  if (!s.empty() && s[0] == '/') {
    s.remove_prefix(1);
    if (!ParseHms(s, &d->time)) return false;
  }
  return true;
}

}  // namespace

std::optional<TimeZone::PosixRule> TimeZone::ParsePosixRule(std::string_view s) {
  PosixRule rule;
  int32_t off = 0;
  if (!ParseName(s) || !ParseHms(s, &off)) return std::nullopt;
  rule.std_offset = -off;  // POSIX offsets count hours *west* of Greenwich
  if (s.empty()) return rule;
  if (!ParseName(s)) return std::nullopt;
  rule.dst_offset = rule.std_offset + 3600;
  if (!s.empty() && s[0] != ',') {
    if (!ParseHms(s, &off)) return std::nullopt;
    rule.dst_offset = -off;
  }
  if (s.empty()) {
    // No rule given: POSIX leaves it implementation-defined; US rules are glibc's default.
    s = ",M3.2.0,M11.1.0";
  }
  if (s[0] != ',') return std::nullopt;
  s.remove_prefix(1);
  if (!ParseRuleDate(s, &rule.start) || s.empty() || s[0] != ',') return std::nullopt;
  s.remove_prefix(1);
  if (!ParseRuleDate(s, &rule.end) || !s.empty()) return std::nullopt;
  return rule;
}

int32_t TimeZone::PosixRule::OffsetAt(int64_t utc) const {
  if (!dst_offset) return std_offset;
  int64_t y = YearOf(utc);
  // Start is written in standard time, end in daylight time.
  int64_t start_utc = RuleLocalTime(start, y) - std_offset;
  int64_t end_utc = RuleLocalTime(end, y) - *dst_offset;
  bool dst = start_utc < end_utc ? (utc >= start_utc && utc < end_utc)   // northern hemisphere
                                 : !(utc >= end_utc && utc < start_utc);  // southern: DST spans new year
  return dst ? *dst_offset : std_offset;
}

std::shared_ptr<const TimeZone> TimeZone::Fixed(std::string name, int32_t offset) {
  std::shared_ptr<TimeZone> tz(new TimeZone());
  tz->name_ = std::move(name);
  tz->initial_offset_ = offset;
  return tz;
}

namespace {

uint32_t Be32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
int64_t Be64(const unsigned char* p) {
  return static_cast<int64_t>((uint64_t{Be32(p)} << 32) | Be32(p + 4));
}

bool ValidZoneName(std::string_view name) {
  if (name.empty() || name.front() == '/' || name.find("..") != std::string_view::npos) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' || c == '+';
  });
}

}  // namespace

Result<std::shared_ptr<const TimeZone>> TimeZone::Load(std::string_view name) {
  if (name == "UTC" || name == "Etc/UTC" || name == "Z") return Fixed(std::string(name), 0);
  if (!ValidZoneName(name)) return Status::Invalid("time zone \"" + std::string(name) + "\": not an IANA zone name");
  const char* dir = std::getenv("TZDIR");
  std::string path = std::string(dir && *dir ? dir : "/usr/share/zoneinfo") + "/" + std::string(name);
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("time zone \"" + std::string(name) + "\": not found (no " + path + ")");
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string data = buf.str();
  auto bad = [&] { return Status::Invalid("time zone \"" + std::string(name) + "\": " + path + " is not a TZif file"); };

  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t size = data.size();
  if (size < 44 || data.compare(0, 4, "TZif") != 0) return bad();
  char version = data[4];
  auto counts = [&](size_t at, uint32_t c[6]) {
    for (int i = 0; i < 6; ++i) c[i] = Be32(p + at + 20 + 4 * i);
  };
  uint32_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  counts(0, c);
  size_t pos = 44;
  int time_size = 4;
  if (version >= '2') {
    // Skip the 32-bit block; the 64-bit one after it covers all of time.
    pos += c[3] * 5 + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0];
    if (size < pos + 44 || data.compare(pos, 4, "TZif") != 0) return bad();
    counts(pos, c);
    pos += 44;
    time_size = 8;
  }
  size_t need = c[3] * (time_size + 1) + c[4] * 6 + c[5] + c[2] * (time_size + 4) + c[1] + c[0];
  if (c[4] == 0 || size < pos + need) return bad();

  std::shared_ptr<TimeZone> tz(new TimeZone());
  tz->name_ = std::string(name);
  std::vector<int64_t> times(c[3]);
  for (uint32_t i = 0; i < c[3]; ++i) {
    times[i] = time_size == 8 ? Be64(p + pos + 8 * i) : static_cast<int32_t>(Be32(p + pos + 4 * i));
  }
  pos += c[3] * time_size;
  const unsigned char* idx = p + pos;
  pos += c[3];
  std::vector<int32_t> type_offsets(c[4]);
  for (uint32_t i = 0; i < c[4]; ++i) type_offsets[i] = static_cast<int32_t>(Be32(p + pos + 6 * i));
  pos += need - c[3] * (time_size + 1);
  for (uint32_t i = 0; i < c[3]; ++i) {
    if (idx[i] >= c[4]) return bad();
    tz->transitions_.push_back(times[i]);
    tz->offsets_.push_back(type_offsets[idx[i]]);
  }
  tz->initial_offset_ = type_offsets[0];  // RFC 8536: type 0 applies before the first transition
  if (version >= '2' && pos < size && data[pos] == '\n') {
    size_t end = data.find('\n', pos + 1);
    if (end != std::string::npos && end > pos + 1) {
      tz->footer_ = ParsePosixRule(std::string_view(data).substr(pos + 1, end - pos - 1));
    }
  }
  return std::shared_ptr<const TimeZone>(tz);
}

int32_t TimeZone::OffsetAt(int64_t utc) const {
  if (transitions_.empty()) return footer_ ? footer_->OffsetAt(utc) : initial_offset_;
  if (utc < transitions_.front()) return initial_offset_;
  if (utc >= transitions_.back() && footer_) return footer_->OffsetAt(utc);
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), utc);
  return offsets_[static_cast<size_t>(it - transitions_.begin()) - 1];
}

int64_t TimeZone::ToUtc(int64_t local) const {
  // Offsets never change twice within a day, so the offsets a day either side are the only candidates.
  int32_t before = OffsetAt(local - kSecondsPerDay);
  int32_t after = OffsetAt(local + kSecondsPerDay);
  std::optional<int64_t> best;
  for (int32_t off : {before, after}) {
    int64_t u = local - off;
    if (OffsetAt(u) == off && (!best || u < *best)) best = u;
  }
  if (best) return *best;
  // In a gap: the wall clock jumped over `local`. Find the jump: the first instant with the new offset.
  int64_t lo = local - std::max(before, after), hi = local - std::min(before, after);
  int32_t lo_offset = OffsetAt(lo);
  while (hi - lo > 1) {
    int64_t mid = lo + (hi - lo) / 2;
    (OffsetAt(mid) == lo_offset ? lo : hi) = mid;
  }
  return hi;
}

}  // namespace sluice
