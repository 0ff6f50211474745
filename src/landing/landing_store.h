// LandingStore: the raw object store batches are written to before they are loaded, so the warehouse can
// always be rebuilt from landing (`sluice backfill`). Written through an ObjectStore (object_store.h): a local
// folder by default, an S3-compatible bucket with `landing.kind: s3`.
// Keys: <stream>/dt=YYYY-MM-DD/<batch_id>.ndjson.zst (the batch's raw records, one per line, as read),
// <batch_id>.positions.zst (per line: partition index and offset) and <batch_id>.manifest.json (source,
// partition names, offset ranges, counts), the manifest written last. The date is the day the batch was
// received (UTC). Objects are never replaced: landing a batch again with the same bytes (a retry) finds them
// there and is Ok; landing a batch id again with other bytes (its records re-read after a crash or a failed load
// cut differently, or received at another time, so its manifest differs) keeps the first landing and writes
// the new one beside it as <batch_id>~2.* (~3, ...). Only a landing that was never loaded is landed again,
// because a loaded batch advances the checkpoints past its id, so LandingReader takes the newest version.
// Thread-safety: Land may be called from several threads at once (one key group per batch).
#pragma once

#include <memory>
#include <string>

#include "core/batch.h"
#include "core/config.h"
#include "core/status.h"
#include "landing/object_store.h"

namespace sluice {

class LandingStore {
 public:
  // A local folder.
  explicit LandingStore(std::string root) : store_(std::make_shared<LocalObjectStore>(std::move(root))) {}
  explicit LandingStore(std::shared_ptr<ObjectStore> store) : store_(std::move(store)) {}

  // Writes the batch's raw records, positions and manifest durably (see the header comment for a batch id
  // landed again). Returns the data object's locator: its path, or s3://bucket/key; the ledger records it.
  Result<std::string> Land(const Batch& batch) const;

  ObjectStore& store() const { return *store_; }

 private:
  std::shared_ptr<ObjectStore> store_;
};

// The landing store a config names (OpenObjectStore).
inline LandingStore OpenLandingStore(const Config& config) { return LandingStore(OpenObjectStore(config)); }

// zstd-compresses `data` at a fast level. Level 1 by measurement (bench/landing_zstd, tracking events in
// 58 MB batches): 0.70 s/GB and 21x smaller; level -1 saves 12% of the time but lands 17x, level 3 costs 43%
// more for nothing (20x), level 6 is 7x slower for 22x.
std::string ZstdCompress(std::string_view data, int level = 1);
// Decompresses a whole zstd stream (one or more frames).
Result<std::string> ZstdDecompress(std::string_view data);

}  // namespace sluice
