// LandingReader: reads back what LandingStore wrote, so the warehouse can be rebuilt from landing
// (`sluice backfill`). Lists a stream's landed batches and rebuilds a Batch from one: every landed line is
// parsed again at its original (partition, offset), under the original batch id, so loading it is
// idempotent against what the live pipeline loaded.
// Thread-safety: stateless apart from the root; Rebuild may run on several threads with separate batches.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/batch.h"
#include "core/status.h"

namespace sluice {

// One landed batch: its manifest's path, the data file next to it and the dt= day it sits under.
struct LandedBatch {
  std::string day;  // YYYY-MM-DD
  std::string batch_id;
  std::string manifest_path;
  std::string data_path;       // <batch_id>.ndjson.zst
  std::string positions_path;  // <batch_id>.positions.zst
};

class LandingReader {
 public:
  explicit LandingReader(std::string root) : root_(std::move(root)) {}

  // The landed batches of `stream`, by day then batch id; `from_day`/`to_day` (YYYY-MM-DD, inclusive)
  // narrow the days. An absent stream folder is an empty list, not an error.
  Result<std::vector<LandedBatch>> List(const std::string& stream, const std::optional<std::string>& from_day = {},
                                        const std::optional<std::string>& to_day = {}) const;

  // Rebuilds the batch as it was when landed: same id, source, received time, rows, dead letters, offset
  // ranges and raw landing data. `stream` must be the stream the batch was landed for.
  static Result<Batch> Rebuild(const LandedBatch& landed, const StreamConfig* stream);

 private:
  std::string root_;
};

}  // namespace sluice
