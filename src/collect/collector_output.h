// CollectorOutput: what one collector run produces, as plain data: the raw API responses to land (DESIGN.md
// semantics 5: raw first, so a table can be rebuilt) and rows per warehouse table, keyed by column name.
// The loader (collect_loader.h) lands the responses and upserts the rows by each table's natural key.
// A run is made of parts (a repository, a page): a part that fails is listed in `failed` with the response
// that failed it, its rows are left out, and the other parts are loaded (a partial run).
// Values; thread-safe to share once built.
#pragma once

#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/http_client.h"
#include "core/status.h"
#include "warehouse/keyed_table.h"

namespace sluice {

struct LandedResponse {
  std::string url;
  int status = 0;
  TimePoint fetched_at;
  bool from_cache = false;  // a 304 answered with the cached body
  std::string body;
  std::string content_type;
  std::vector<std::string> rate_limit_waits;  // the waits this request made (HttpResponse::rate_limit_waits)
  // The response's rate-limit headers (x-ratelimit-*, ratelimit-*, retry-after, x-retry-after), for the state
  // `sluice collect --dry-run` shows; response headers only, so never a token. Not landed.
  HttpHeaders rate_limit_headers;

  static LandedResponse From(const HttpResponse& r) {
    HttpHeaders limits;
    for (const auto& [name, value] : r.headers) {
      if (name.rfind("x-ratelimit-", 0) == 0 || name.rfind("ratelimit", 0) == 0 || name == "retry-after" ||
          name == "x-retry-after")
        limits.emplace_back(name, value);
    }
    return {r.url,  r.status, r.fetched_at, r.from_cache, r.body, r.Header("content-type").value_or(""),
            r.rate_limit_waits, std::move(limits)};
  }
};

// A part of a run that failed: its rows are not loaded; `response` is the evidence, landed beside the run.
struct FailedPart {
  std::string part;  // "acme/nebula", "page 3 (https://...)"
  Status error;
  std::optional<LandedResponse> response;  // the response that failed it, when one came
};

// Something a run chose not to fetch, and why (traffic without push access).
struct SkippedPart {
  std::string part;
  std::string what;
  std::string reason;
};

struct CollectorOutput {
  std::vector<LandedResponse> responses;
  std::map<std::string, KeyedTable> tables;                 // tables defined by config, not by code
  std::map<std::string, std::vector<nlohmann::json>> rows;  // table -> rows {column: value}
  std::vector<std::string> notes;                           // what was skipped and why, for the run log
  std::vector<SkippedPart> skipped;
  std::vector<FailedPart> failed;
  int parts_ok = 0;  // parts collected in full; with failed parts and none ok, the run failed

  void Land(const HttpResponse& r) { responses.push_back(LandedResponse::From(r)); }
  size_t RowCount() const {
    size_t n = 0;
    for (const auto& [table, rows_of] : rows) n += rows_of.size();
    return n;
  }
};

}  // namespace sluice
