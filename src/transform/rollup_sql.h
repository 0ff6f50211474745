// SQL for a declared rollup: the full build (CREATE OR REPLACE TABLE ... AS SELECT ... GROUP BY ALL) and
// the incremental recompute of a set of event hours (DELETE those buckets, INSERT their aggregate from raw).
// Every bucket is always recomputed whole from raw, never merged, so non-mergeable measures
// (approx_count_distinct, avg) stay right and re-running is idempotent (DESIGN.md semantics 3).
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "transform/rollup_config.h"

namespace sluice {

// `TIMESTAMP '2015-01-01 12:00:00'`.
std::string SqlTimestamp(int64_t micros);
// "TIMESTAMP 'a', TIMESTAMP 'b'" (no parentheses): the form `{{ touched_hours }}` expands to.
std::string SqlTimestampList(const std::set<int64_t>& micros);

// The buckets of `grain` ("hour" | "day") that `hours` (hour starts) fall in.
std::set<int64_t> BucketsOf(const std::set<int64_t>& hours, const std::string& grain);

// The aggregate query over raw, restricted by `raw_filter` (a SQL predicate on raw columns; empty for all).
std::string RollupSelectSql(const RollupConfig& rollup, const std::string& raw_filter = "");

// Builds (or rebuilds) the whole table from raw.
std::string RollupFullBuildSql(const RollupConfig& rollup);

// Recomputes the buckets containing `hours`: a DELETE and an INSERT, separated by ";". The caller wraps them
// in one transaction (with the cursor update). Empty `hours` gives an empty string.
std::string RollupRecomputeSql(const RollupConfig& rollup, const std::set<int64_t>& hours);

// What `sluice explain rollup NAME` prints: the build, and the recompute for `example_hours`.
std::string ExplainRollup(const RollupConfig& rollup, const std::set<int64_t>& example_hours);

}  // namespace sluice
