// HttpGroupCommit: group commit for one stream's http source. Bodies POSTed while a group (an HTTP batch of
// that stream) is open join it, so one landed batch and one warehouse transaction commit many bodies, and
// 20 clients posting at once no longer make 20 batches that fill the loader's queue.
//
// A group is cut when it is full (the stream's max_records or max_bytes), when the next body would take it
// past those limits (that body opens the next group; a body over the limits alone is a group of its own),
// or when its wait passes: the stream's max_wait, capped at kMaxGroupWaitUs, so a lone body is not held for
// the source's whole max_wait. A group past its wait still stays open while kMaxGroupsInFlight groups are
// landing, queued or loading (LevelDB's group commit: the next group forms while the last one is written),
// so a slow warehouse makes groups bigger instead of filling the loader's queue with small ones, and the
// queue fills, and bodies are refused, only when whole batches wait. The body that opened a group leads it:
// it waits the group out, lands and queues it in group order, waits for its commit and hands the outcome to
// every member. Each body is
// answered with its own counts (rows loaded, dead letters) and the group's batch id, only after the commit;
// a failed commit fails every body of the group with that error.
//
// Positions: each record takes the next sequence number of this worker's http partition, in arrival order,
// so a group's range is contiguous and groups commit in sequence order. The sequence starts at the
// partition's checkpoint, read on the first body. A group that fails to land or load leaves a gap, which the
// warehouse's checkpoint fence allows; going back (re-reading the checkpoint while later groups are in
// flight) would make those groups stale, so the sequence is re-read only after a batch came back stale.
// As before grouping, a body is answered only once committed; with DuckDB a crash before the commit leaves
// nothing of the group in the warehouse (landing is not replayed for it), so a client retrying its body
// after the restart loads it once, at the sequence numbers the checkpoint gives again.
// Thread-safety: Add may be called from any number of threads at once.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/batch.h"
#include "core/config.h"
#include "core/metrics.h"
#include "core/record_parser.h"
#include "core/status.h"
#include "warehouse/warehouse.h"

namespace sluice {

// What happened to one HTTP body.
struct IngestReport {
  std::string batch_id;  // the batch (group) that committed it; empty for a body without records
  int64_t loaded = 0;    // this body's rows
  int64_t dead = 0;      // this body's dead letters
};

class HttpGroupCommit {
 public:
  // Lands `batch` and queues it for the loader, waiting for room; the future answers once it is loaded.
  using EnqueueFn = std::function<Result<std::future<Result<LoadOutcome>>>(std::unique_ptr<Batch>)>;
  // The partition's committed checkpoint (the next sequence number), 0 when it has none.
  using CheckpointFn = std::function<Result<int64_t>()>;

  // The longest a group stays open for more bodies (when the stream's max_wait is shorter, that instead).
  static constexpr int64_t kMaxGroupWaitUs = 5'000;
  // Groups cut and not yet committed before a group that is not full waits past its wait: one loading and
  // one queued behind it keep the loader busy.
  static constexpr int kMaxGroupsInFlight = 2;

  // `limits`: the stream's batch limits (max_records already rounded by the warehouse); `partition`: this
  // worker's http partition name. `stream`, `source` and `metrics` must outlive this object.
  HttpGroupCommit(const StreamConfig* stream, const SourceConfig* source, std::string partition,
                  const BatchConfig& limits, EnqueueFn enqueue, CheckpointFn checkpoint, Metrics& metrics);

  // Adds an NDJSON body (blank lines skipped, CRLF accepted) to the open group, or opens one; returns once
  // the group committed, with this body's counts. An empty body answers at once with zero counts.
  Result<IngestReport> Add(std::string_view body);

  // How long a group stays open.
  int64_t group_wait_us() const { return group_wait_us_; }

 private:
  struct Group {
    std::unique_ptr<Batch> batch;
    uint32_t partition = 0;  // index of the http partition in batch
    int64_t deadline_us = 0;
    uint64_t ticket = 0;  // groups land and queue in ticket (= sequence) order
    bool cut = false;     // no longer open: no body joins it
    std::string batch_id;
    std::promise<Status> committed;
    std::shared_future<Status> outcome = committed.get_future().share();
  };

  // Closes the open group to new bodies (it is in flight from now on) and wakes its leader. Requires mu_.
  void CutOpen();
  bool Full(const Batch& b) const { return b.read_records >= limits_.max_records || b.read_bytes >= limits_.max_bytes; }
  // Waits for the group (its leader's part): cut, its turn, landed and queued, committed.
  Status Lead(std::unique_lock<std::mutex>& lock, const std::shared_ptr<Group>& g);

  const StreamConfig* stream_;
  const SourceConfig* source_;
  const std::string partition_;
  const BatchConfig limits_;
  const int64_t group_wait_us_;
  EnqueueFn enqueue_;
  CheckpointFn checkpoint_;
  Metrics& metrics_;
  const std::string labels_;

  std::mutex mu_;               // guards everything below
  std::condition_variable cv_;  // a group was cut, or a leader's turn came
  RecordParser parser_;         // parses into the open group, under mu_
  std::shared_ptr<Group> open_;
  int64_t next_sequence_ = -1;  // -1: read the checkpoint first
  uint64_t next_ticket_ = 0;    // the next group's ticket
  uint64_t turn_ = 0;           // the ticket whose leader may land and queue now
  int in_flight_ = 0;           // groups cut and not yet answered
};

}  // namespace sluice
