// CollectorPreview: what one run of a collector would load, found by running it against the live API and
// writing nothing (`sluice collect --dry-run`): no landing object, no warehouse row or table, no run-ledger
// row, no HTTP cache entry. It is how a user shapes an http_json collector's `rows:` and `fields:`: the rows
// per table with their columns and types, the members the selected rows actually hold (typed from their
// values, so a missing field is easy to add), the pages followed, and the API's rate-limit state.
// The warehouse is not opened at all, so a preview also runs while `sluice run` holds it. Without the HTTP
// cache no request is conditional: every page is fetched in full, as the API answers now.
// Thread-safety: functions of their arguments.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "collect/collector_config.h"
#include "collect/collector_output.h"
#include "core/clock.h"
#include "core/status.h"
#include "warehouse/keyed_table.h"

namespace sluice {

// A response the run received, in request order.
struct PagePreview {
  std::string url;  // redacted (RedactUrl)
  int status = 0;
  bool from_cache = false;  // a 304 answered from a cache (never in a preview, which sends no ETags)
  size_t bytes = 0;
};

// Rate-limit headers of the last response that carried any (GitHub and Docker Hub: x-ratelimit-*; the IETF
// draft: ratelimit-*). Empty strings for headers the API did not send.
struct RateLimitState {
  std::string url;  // the response they came from, redacted
  std::string remaining;
  std::string limit;
  std::string reset;        // as sent: Unix seconds (x-ratelimit-reset) or seconds from now (ratelimit-reset)
  std::string reset_at;     // the reset as a UTC time "2026-11-30 09:00:00 UTC (in 42 min)", when computable
  std::string retry_after;  // retry-after or x-retry-after, when sent
};

// A member of the row objects `rows:` selected, with the column type its values suggest.
struct RowMember {
  std::string name;
  std::string type;     // int64 | float64 | bool | timestamp | date | string | json
  std::string example;  // the first non-null value, as JSON text, cut to 40 characters
  bool mapped = false;  // some field's path is $.<name> (or $.<name>...)
};

struct TablePreview {
  KeyedTable table;                  // columns and types, natural key
  std::vector<nlohmann::json> rows;  // every row the run would upsert
};

struct CollectorPreview {
  std::vector<TablePreview> tables;  // tables with rows, and an http_json collector's table even when empty
  std::vector<PagePreview> pages;
  std::optional<RateLimitState> rate_limit;
  std::vector<RowMember> row_members;  // http_json only
  // http_json, when `rows:` selected no object: the first good page's top-level members (or its JSON type),
  // to show where the rows are.
  std::vector<std::string> page_members;
  std::vector<std::string> notes;   // the run's notes (values that did not convert, skipped parts)
  std::vector<std::string> failed;  // "part: error" of the parts that failed: a real run would be partial
  int parts_ok = 0;                 // parts collected in full (none with some failed: the run fails)
};

// Runs `config` once as of `at` (its {{date}}) and describes what it would load. Errors are the run's own
// (an unset header env var, a malformed config); a failing page or repository is listed in `failed`. URLs
// are redacted (RedactUrl), and the values of the env vars the URL template uses, and of the token, become
// <env.NAME> wherever they show, so `?k={{env.API_KEY}}` stays secret under any parameter name.
Result<CollectorPreview> PreviewCollector(const CollectorConfig& config, TimePoint at, Clock* clock = Clock::Real());

// The column type that `values` (JSON values of one member, nulls ignored) fit: int64, float64, bool, date
// (YYYY-MM-DD text), timestamp (ISO-8601 text), json (objects, arrays) or string (anything else, mixed).
std::string InferColumnType(const std::vector<nlohmann::json>& values);

// The rate-limit state `headers` (lower-cased response headers) describe, or nullopt when there are none;
// `now` turns a reset into a time.
std::optional<RateLimitState> ReadRateLimit(const HttpHeaders& headers, TimePoint now);

}  // namespace sluice
