// LandingStore: the raw object store batches are written to before they are loaded, so the warehouse can
// always be rebuilt from landing (`sluice backfill`). A local directory by default; an S3-compatible store
// can implement the same two calls.
// Layout: <root>/<stream>/dt=YYYY-MM-DD/<batch_id>.ndjson.zst (the batch's raw records, one per line, as
// read), <batch_id>.positions.zst (per line: partition index and offset) and <batch_id>.manifest.json
// (source, partition names, offset ranges, counts). The date is
// the day the batch was received (UTC). Writes are atomic: temp file, fsync, rename, fsync of the folder.
// Thread-safety: Land may be called from several threads at once (one file per batch).
#pragma once

#include <string>

#include "core/batch.h"
#include "core/status.h"

namespace sluice {

class LandingStore {
 public:
  explicit LandingStore(std::string root) : root_(std::move(root)) {}

  // Writes the batch's raw records and manifest durably. Returns the data file's path. Landing the same
  // batch id again replaces the file with the same content (a retried batch).
  Result<std::string> Land(const Batch& batch) const;

  const std::string& root() const { return root_; }

 private:
  std::string root_;
};

// Writes `data` to `path` atomically and durably (temp file, fsync, rename, fsync of the folder).
Status WriteFileAtomic(const std::string& path, std::string_view data);

// zstd-compresses `data` at a fast level.
std::string ZstdCompress(std::string_view data, int level = 1);
// Decompresses a whole zstd stream (one or more frames).
Result<std::string> ZstdDecompress(std::string_view data);

}  // namespace sluice
