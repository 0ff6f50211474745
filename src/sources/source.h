// Source: where one stream's records come from (file, kafka, http). A source reads records into the open
// Batch through the stream's RecordParser and decides, with BatchCut, when the batch is complete; the
// pipeline then lands and loads it. Positions are (partition, offset) pairs; the warehouse's checkpoint for
// each partition is where reading resumes, which is what makes loading exactly-once.
// Thread-safety: each source is driven by one pipeline thread; Stop() may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/batch.h"
#include "core/config.h"
#include "core/record_parser.h"
#include "core/status.h"

namespace sluice {

// Reads the committed checkpoints of a source (partition -> next offset) from the warehouse. Safe to call
// from any thread (the pipeline serialises it with loading).
using CheckpointReader = std::function<Result<std::map<std::string, int64_t>>(const std::string& source)>;

// When to cut a batch: max records, max bytes or max wait, whichever comes first.
struct BatchCut {
  BatchConfig limits;
  bool Full(const Batch& b) const {
    return b.read_records >= limits.max_records || b.read_bytes >= limits.max_bytes;
  }
  int64_t Deadline(const Batch& b) const { return b.received_at_us + limits.max_wait_us; }
};

class Source {
 public:
  Source(const StreamConfig* stream, const SourceConfig* config) : stream_(stream), config_(config) {}
  virtual ~Source() = default;

  const std::string& name() const { return config_->name; }
  const StreamConfig& stream() const { return *stream_; }
  const SourceConfig& config() const { return *config_; }

  // Opens the source positioned at the warehouse checkpoints. Kafka also re-reads them on every partition
  // assignment through `checkpoints`.
  virtual Status Start(CheckpointReader checkpoints) = 0;

  // Reads records into `batch` until it is full, its max-wait deadline passes, or (when `drain` is set, for
  // `sluice ingest --once`) there is nothing more to read right now. Returns Retry for a transient failure.
  virtual Status Read(Batch& batch, RecordParser& parser, const BatchCut& cut, bool drain) = 0;

  // True once a draining source has read everything there was (ingest --once ends when all are done).
  virtual bool Exhausted() const = 0;

  // Called for every batch this source read once the loader is done with it (loaded, refused or dropped),
  // before Committed or Rejected.
  virtual void Settled(const Batch& batch) { (void)batch; }
  // Called after `batch` committed to the warehouse (Kafka: commit the offsets to Kafka for lag tools).
  virtual void Committed(const Batch& batch) { (void)batch; }
  // Called when the warehouse refused `batch` as stale (another consumer committed those offsets first):
  // the source must re-read its positions from the checkpoints before going on.
  virtual void Rejected(const Batch& batch) { (void)batch; }

  // Asks a blocking Read to return soon. Thread-safe.
  virtual void Stop() { stopping_ = true; }

  // The partitions this source reads now (Kafka: assigned; file: the files it names). Thread-safe.
  virtual std::vector<std::string> Held() const { return {}; }

  // Lag in records or bytes behind the newest data, where known (-1 when not).
  virtual int64_t Lag() const { return -1; }

  // Counters of the source's own, as metric name -> value, published on /metrics with the source's labels.
  // Called on the reading thread.
  virtual std::vector<std::pair<std::string, int64_t>> Counters() const { return {}; }

 protected:
  const StreamConfig* stream_;
  const SourceConfig* config_;
  std::atomic<bool> stopping_{false};
};

// Creates the source a config entry names (http sources are created by the server, not here).
Result<std::unique_ptr<Source>> MakeSource(const StreamConfig* stream, const SourceConfig* config);

}  // namespace sluice
