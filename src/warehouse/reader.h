// Readers: the warehouse's read path for people's SQL (dashboards, /api/query, /api/export.csv, `sluice
// query`), on connections apart from the loader's, so a query never waits for the loader nor delays a commit,
// and sees committed data only (DESIGN.md semantics 7).
//
// The engine, not a keyword scan, keeps a reader read-only: one statement per call, of a kind that reads
// (SELECT, and EXPLAIN of one), run in a read-only transaction so any write is refused even when wrapped in
// WITH or EXPLAIN ANALYZE; file and network access, extensions and settings are off for the whole database.
// Every call is bounded in time (interrupted past the timeout; the connection stays usable) and in rows
// (the answer stops at max_rows and says it was truncated), and rows are fetched as the engine streams them,
// so memory stays bounded by max_rows whatever the query would return.
// Thread-safety: thread-safe; each call takes one connection of a small pool, waiting while all are busy.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "warehouse/query_result.h"

namespace sluice {

// Limits of one reader call.
struct ReadLimits {
  int64_t timeout_us = 30'000'000;  // interrupted past this (server.query_timeout)
  int64_t max_rows = 100'000;       // rows returned at most; past it the result is truncated (server.max_rows)
};

// A typed value bound to a placeholder of a reader's statement: `$1` is params[0], `$2` params[1], ... (the
// text of the statement never holds the value). Only timestamps so far: what a dashboard's time range needs.
struct QueryParam {
  enum class Type { kTimestamp };
  Type type = Type::kTimestamp;
  int64_t micros = 0;  // kTimestamp: microseconds since the Unix epoch, UTC

  static QueryParam Timestamp(int64_t micros) { return {Type::kTimestamp, micros}; }
};

class Readers {
 public:
  virtual ~Readers() = default;

  // Runs `sql` within `limits`, its placeholders $1..$N bound to `params` (DuckDB binds them on the prepared
  // statement; ClickHouse, which has no parameters in 18.16, gets typed literals generated from the numbers).
  // Invalid when it is not exactly one statement that reads, when its placeholders and `params` disagree, or
  // when the engine refuses it (a write, a file, an extension, a setting) or fails it; TimedOut when it ran
  // past the timeout; Retry when every connection stayed busy for the whole timeout.
  virtual Result<QueryResult> Query(const std::string& sql, const ReadLimits& limits,
                                    const std::vector<QueryParam>& params) = 0;
  Result<QueryResult> Query(const std::string& sql, const ReadLimits& limits) { return Query(sql, limits, {}); }
};

}  // namespace sluice
