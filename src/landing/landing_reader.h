// LandingReader: reads back what LandingStore wrote, so the warehouse can be rebuilt from landing
// (`sluice backfill`). Lists a stream's landed batches and rebuilds a Batch from one: every landed line is
// parsed again at its original (partition, offset), under the original batch id, so loading it is
// idempotent against what the live pipeline loaded. Reads through an ObjectStore, so a folder and an S3 bucket
// read the same. Of a batch id landed more than once (<batch_id>~2.*, see landing_store.h) only the newest
// whole version (one with a manifest) is listed: the earlier ones were never loaded.
// Thread-safety: stateless apart from the store; Rebuild may run on several threads with separate batches.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/batch.h"
#include "core/status.h"
#include "landing/object_store.h"

namespace sluice {

// One landed batch: its manifest, the data and positions next to it and the dt= day it sits under. The
// *_path fields are locators (a file path, or s3://bucket/key: what the ledger records), the *_key fields the
// store's keys.
struct LandedBatch {
  std::string day;  // YYYY-MM-DD
  std::string batch_id;
  std::string manifest_path;
  std::string data_path;       // <batch_id>.ndjson.zst
  std::string positions_path;  // <batch_id>.positions.zst
  std::string manifest_key, data_key, positions_key;
};

class LandingReader {
 public:
  // A local folder.
  explicit LandingReader(std::string root) : store_(std::make_shared<LocalObjectStore>(std::move(root))) {}
  explicit LandingReader(std::shared_ptr<ObjectStore> store) : store_(std::move(store)) {}

  // The landed batches of `stream`, by day then batch id; `from_day`/`to_day` (YYYY-MM-DD, inclusive)
  // narrow the days. A stream with nothing landed is an empty list, not an error.
  Result<std::vector<LandedBatch>> List(const std::string& stream, const std::optional<std::string>& from_day = {},
                                        const std::optional<std::string>& to_day = {}) const;

  // Rebuilds the batch as it was when landed: same id, source, received time, rows, dead letters, offset
  // ranges and raw landing data. `stream` must be the stream the batch was landed for.
  Result<Batch> Rebuild(const LandedBatch& landed, const StreamConfig* stream) const;

 private:
  std::shared_ptr<ObjectStore> store_;
};

}  // namespace sluice
