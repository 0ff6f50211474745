// MartConfig: one declared PostgreSQL mart (`marts:` in the config): a rollup or model mirrored into a
// PostgreSQL table. Parsed at start against the transformer's targets, so a typo fails `sluice validate`.
// Values; immutable once parsed; thread-safe to share.
#pragma once

#include <string>
#include <vector>

#include "core/config.h"
#include "core/status.h"
#include "transform/models.h"

namespace sluice {

struct MartConfig {
  std::string name;
  std::string from;          // the rollup or model it mirrors
  std::string bucket;        // its time column (a rollup's grain, a model's time_column); empty: copied whole
  bool day_buckets = false;  // the bucket is a day (a rollup of grain day): touched hours map to their day
  std::string url_env;       // the environment variable holding the libpq connection string (never logged)
  std::string schema;        // PostgreSQL schema ("public" when the table names none)
  std::string table;         // PostgreSQL table, without the schema
};

// Parses config.marts (a map name -> mart) against `targets` (Transformer::targets()). Invalid listing every
// problem with file:line:column and the field path (e.g. "sluice.yaml:40:11: marts.ads.from: 'hourly2' is not
// a rollup or model"). Empty when the config declares none.
Result<std::vector<MartConfig>> ParseMarts(const Config& config, const std::vector<TransformTarget>& targets);

}  // namespace sluice
