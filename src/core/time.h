// Event-time arithmetic on microseconds since the Unix epoch (UTC), the unit DuckDB's TIMESTAMP uses.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerHour = 3600 * kMicrosPerSecond;
constexpr int64_t kMicrosPerDay = 24 * kMicrosPerHour;

// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);

// Parses ISO-8601 / RFC 3339 text: "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.frac]]" with 'T' or ' ',
// and an optional "Z" or "+HH:MM"/"-HHMM" offset (none means UTC). Returns nullopt when malformed.
std::optional<int64_t> ParseIsoMicros(std::string_view text);

// Parses "YYYY-MM-DD" into days since the epoch; nullopt when malformed.
std::optional<int32_t> ParseIsoDate(std::string_view text);

// Floor division helpers that are right for negative times too.
inline int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
inline int64_t HourOf(int64_t micros) { return FloorDiv(micros, kMicrosPerHour) * kMicrosPerHour; }
inline int32_t DayOf(int64_t micros) { return static_cast<int32_t>(FloorDiv(micros, kMicrosPerDay)); }

// "2015-01-01T12:00:00Z" (seconds precision, fraction added when non-zero).
std::string FormatIsoMicros(int64_t micros);
// "2015-01-01 12:00:00[.ffffff]": the form SQL TIMESTAMP literals take.
std::string FormatSqlTimestamp(int64_t micros);
// "2015-01-01".
std::string FormatIsoDate(int32_t days);

// Parses a duration like "500ms", "1s", "6h", "3d", "1h30m"; nullopt when malformed.
std::optional<int64_t> ParseDurationMicros(std::string_view text);

// Wall-clock now, in microseconds since the epoch.
int64_t NowMicros();

// CPU time the calling thread has used so far, in microseconds: against wall time, how long it ran.
int64_t ThreadCpuMicros();

}  // namespace sluice
