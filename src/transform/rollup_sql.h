// SQL for a declared rollup, in the warehouse's dialect (warehouse/sql_dialect.h): the aggregate over raw,
// and the TargetWrites of a full build and of the incremental recompute of a set of event hours. Every bucket
// is always recomputed whole from raw, never merged, so non-mergeable measures (approx_count_distinct, avg)
// stay right and re-running is idempotent (DESIGN.md semantics 3).
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "transform/rollup_config.h"
#include "warehouse/sql_dialect.h"

namespace sluice {

// The buckets of `grain` ("hour" | "day") that `hours` (hour starts) fall in.
std::set<int64_t> BucketsOf(const std::set<int64_t>& hours, const std::string& grain);

// The aggregate query over raw, restricted by `raw_filter` (a SQL predicate on raw columns; empty for all).
std::string RollupSelectSql(const SqlDialect& d, const RollupConfig& rollup, const std::string& raw_filter = "");

// A predicate on raw selecting the rows of `buckets` (non-empty): range bounds that let the engine skip
// storage blocks (raw is stored in event order), and the exact set for non-contiguous buckets.
std::string RollupRawFilter(const SqlDialect& d, const RollupConfig& rollup, const std::set<int64_t>& buckets);

// Builds (or rebuilds) the whole table from raw.
TargetWrite RollupRebuild(const SqlDialect& d, const RollupConfig& rollup);

// Recomputes the buckets containing `hours` (none: a cursor-only write).
TargetWrite RollupRecompute(const SqlDialect& d, const RollupConfig& rollup, const std::set<int64_t>& hours);

// What `sluice explain rollup NAME` prints: the build, and the recompute for `example_hours`.
std::string ExplainRollup(const SqlDialect& d, const RollupConfig& rollup, const std::set<int64_t>& example_hours);

}  // namespace sluice
