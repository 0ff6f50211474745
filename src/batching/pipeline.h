// Pipeline: drives sources, cuts batches, lands them and loads them, exactly once.
//
// One thread per file/kafka source reads and parses records into a Batch until BatchCut says cut, lands it,
// and queues it; one loader thread owns the warehouse and commits batches in queue order. The queue is
// bounded, so a source that outruns the warehouse waits (back-pressure) instead of growing memory. HTTP
// bodies come in through Ingest(): bodies arriving together share one batch (http_group_commit.h), each is
// answered only after that batch committed, and a body is refused with Retry (503) when the queue is full.
// Thread-safety: Start/Stop/Wait from the owning thread; Ingest, WithWarehouse and the accessors from any.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "batching/drain_rate.h"
#include "batching/http_group_commit.h"
#include "core/config.h"
#include "core/metrics.h"
#include "core/work_leases.h"
#include "landing/landing_store.h"
#include "sources/source.h"
#include "warehouse/warehouse.h"

namespace sluice {

// Several workers sharing the pipeline (runtime/workers.h). Alone: no worker name, no leases.
struct PipelineOptions {
  std::string worker;            // names this worker's HTTP partition "http/<worker>" ("http" when empty)
  WorkLeases* leases = nullptr;  // file sources run only while their lease "source:<name>" is held
};

class Pipeline {
 public:
  Pipeline(const Config& config, Warehouse& warehouse, Metrics& metrics, PipelineOptions options = {});
  ~Pipeline();

  // Starts the loader and one thread per file/kafka source. With `drain`, sources stop once they have read
  // everything there is (ingest --once) and Wait() returns when all of it is loaded.
  Status Start(bool drain);
  // Asks every source to cut its open batch and stop; queued batches are still loaded.
  void Stop();
  // Joins all threads; returns the first error that stopped the pipeline, or Ok.
  Status Wait();

  // Loads an NDJSON body for `stream` received over HTTP, in one batch with the bodies that arrive with it
  // (HttpGroupCommit); returns when that batch is committed, with this body's counts. NotFound for an
  // unknown stream; Retry when the loader's queue is full (the client should back off RetryAfterSeconds()).
  Result<IngestReport> Ingest(const std::string& stream, std::string_view body);
  // Seconds until the loader's queue has room, at its measured drain rate (at least 1): a refused HTTP
  // client's Retry-After.
  int64_t RetryAfterSeconds();

  // Runs `fn` with the warehouse while no batch is being loaded (queries, status).
  Status WithWarehouse(const std::function<Status(Warehouse&)>& fn);

  Metrics& metrics() { return metrics_; }
  // What this worker reads now, by source: Kafka partitions assigned, file sources held, its HTTP partition.
  std::map<std::string, std::vector<std::string>> HeldPartitions();
  size_t queue_depth();
  static constexpr size_t kMaxQueued = 4;

 private:
  struct Pending {
    std::unique_ptr<Batch> batch;
    std::string landed_file;
    Source* source = nullptr;  // null for HTTP batches
    std::promise<Result<LoadOutcome>> done;
  };
  struct SourceState {
    std::unique_ptr<Source> source;
    std::unique_ptr<RecordParser> parser;
    std::thread thread;
    std::mutex mu;
    std::vector<std::pair<std::unique_ptr<Batch>, LoadOutcome>> outcomes;  // answered by the loader
    int64_t epoch = 0;
    std::string lease;                 // "source:<name>" when the source runs under a lease
    std::atomic<bool> started{false};  // Start succeeded (under its lease)
    std::atomic<bool> lease_lost{false};
  };

  void RunSource(SourceState& state, bool drain);
  // Waits for the source's lease (file sources with several workers), then starts it; false when stopping
  // (or, draining, when another worker holds it).
  bool StartUnderLease(SourceState& state, bool drain);
  // Reads a source's checkpoints; with several workers, first completes the source's landed batches a dead
  // worker left unloaded (a Kafka partition taken over), skipping this process's own in-flight batches.
  Result<std::map<std::string, int64_t>> ReadCheckpoints(const std::string& source);
  void RunLoader();
  // Lands `batch` and queues it; blocks while the queue is full unless `wait_for_room` is false.
  Result<std::future<Result<LoadOutcome>>> Enqueue(std::unique_ptr<Batch> batch, Source* source, bool wait_for_room);
  void Fail(const Status& status);
  void CountLate(Batch& batch);
  // The group commit of `stream`'s http source, created on first use; null when it has none.
  HttpGroupCommit* HttpGroups(const std::string& stream);

  const Config& config_;
  Warehouse& warehouse_;
  Metrics& metrics_;
  PipelineOptions options_;
  std::string http_partition_;
  LandingStore landing_;
  std::vector<std::unique_ptr<SourceState>> sources_;
  std::thread loader_;

  std::mutex mu_;  // guards the queue, the state below, and (through warehouse_mu_) loading
  std::condition_variable queue_cv_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  bool loader_done_ = false;
  int running_sources_ = 0;
  Status error_;
  std::map<std::string, int64_t> min_epoch_;    // source -> batches of older epochs are stale
  std::map<std::string, int64_t> max_event_us_; // stream -> newest event time loaded (watermark base)
  std::set<std::string> in_flight_ids_;         // batches landing, queued or loading in this process
  DrainRate drain_;                             // how fast the loader empties the queue (Retry-After)
  std::mutex http_mu_;                          // guards http_groups_
  std::map<std::string, std::unique_ptr<HttpGroupCommit>> http_groups_;  // stream -> its http group commit
  std::mutex warehouse_mu_;
};

}  // namespace sluice
