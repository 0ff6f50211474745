// RollupConfig: one declared rollup (`rollups:` in the config): a stream aggregated by a time grain and
// dimensions into measures and pivot count columns. Parsed and checked against the stream's schema at
// start, so a typo fails `sluice validate`, not the first transform.
// Values; immutable once parsed; thread-safe to share.
#pragma once

#include <string>
#include <vector>

#include "core/config.h"
#include "core/status.h"

namespace sluice {

enum class MeasureFn { kCount, kSum, kMin, kMax, kAvg, kApproxDistinct };

struct Measure {
  std::string name;    // output column
  MeasureFn fn = MeasureFn::kCount;
  std::string column;  // input column; empty for count
};

struct Pivot {
  std::string column;               // e.g. event
  std::vector<std::string> values;  // each becomes a count column named after the value
};

struct RollupConfig {
  std::string name;    // the rollup's table
  const StreamConfig* stream = nullptr;  // points into the Config it was parsed from
  std::string grain;   // "hour" | "day"; also the name of the bucket column
  std::vector<std::string> dimensions;
  std::vector<Measure> measures;
  Pivot pivot;         // pivot.column empty when none

  // Output columns in table order: grain, dimensions, measures, pivot values.
  std::vector<std::string> OutputColumns() const;
};

// Parses config.rollups (a map name -> rollup). Returns Invalid listing every problem with
// file:line:column and the field path (e.g. "sluice.yaml:31:17: rollups.hourly.dimensions: unknown column
// 'adid' of stream tracking"). `config` must outlive the result (rollups point at its streams).
Result<std::vector<RollupConfig>> ParseRollups(const Config& config);

}  // namespace sluice
