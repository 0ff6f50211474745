#include "batching/pipeline.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "core/time.h"

namespace sluice {
namespace {

std::string StreamLabel(const std::string& stream, const std::string& source) {
  return "stream=\"" + stream + "\",source=\"" + source + "\"";
}

}  // namespace

Pipeline::Pipeline(const Config& config, Warehouse& warehouse, Metrics& metrics, PipelineOptions options)
    : config_(config),
      warehouse_(warehouse),
      metrics_(metrics),
      options_(std::move(options)),
      http_partition_(options_.worker.empty() ? "http" : "http/" + options_.worker),
      landing_(OpenLandingStore(config)) {}

Pipeline::~Pipeline() {
  Stop();
  (void)Wait();
}

Status Pipeline::Start(bool drain) {
  // A load the last run left half done (engines without transactions) is completed before anything is read,
  // so the checkpoints the sources seek to are whole.
  RETURN_IF_ERROR(warehouse_.RecoverFromLanding(config_).WithContext("completing loads from landing"));
  // The watermark starts where the last run left it.
  for (const auto& s : config_.streams) {
    ASSIGN_OR_RETURN(std::optional<int64_t> newest, warehouse_.NewestEventTime(s.name));
    if (newest) max_event_us_[s.name] = *newest;
  }
  CheckpointReader reader = [this](const std::string& source) { return ReadCheckpoints(source); };
  for (const auto& stream : config_.streams) {
    for (const auto& sc : stream.sources) {
      if (sc.kind == "http") continue;
      // A file source declared for another worker is that worker's alone.
      if (sc.kind == "file" && !sc.worker.empty() && sc.worker != options_.worker) continue;
      ASSIGN_OR_RETURN(auto source, MakeSource(&stream, &sc));
      auto state = std::make_unique<SourceState>();
      // Kafka spreads its partitions itself; an undeclared file source is one worker's at a time.
      if (options_.leases && sc.kind == "file" && sc.worker.empty()) state->lease = "source:" + sc.name;
      if (state->lease.empty()) {
        RETURN_IF_ERROR(source->Start(reader));
        state->started = true;
      }
      state->source = std::move(source);
      state->parser = std::make_unique<RecordParser>(&stream);
      sources_.push_back(std::move(state));
    }
  }
  loader_ = std::thread([this] { RunLoader(); });
  running_sources_ = static_cast<int>(sources_.size());
  for (auto& s : sources_) {
    SourceState* state = s.get();
    state->thread = std::thread([this, state, drain] { RunSource(*state, drain); });
  }
  return Status::Ok();
}

void Pipeline::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  for (auto& s : sources_) s->source->Stop();
  queue_cv_.notify_all();
}

Status Pipeline::Wait() {
  for (auto& s : sources_)
    if (s->thread.joinable()) s->thread.join();
  {
    // Sources are done: the loader finishes what is queued, then exits.
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (loader_.joinable()) loader_.join();
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

void Pipeline::Fail(const Status& status) {
  spdlog::error("{}", status.ToString());
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (error_.ok()) error_ = status;
    stopping_ = true;
  }
  for (auto& s : sources_) s->source->Stop();
  queue_cv_.notify_all();
}

size_t Pipeline::queue_depth() {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

Result<std::future<Result<LoadOutcome>>> Pipeline::Enqueue(std::unique_ptr<Batch> batch, Source* source,
                                                           bool wait_for_room) {
  int64_t land_start = NowMicros();
  {
    // From landing on, the batch is this process's: a recovery on a Kafka assignment must leave it alone.
    std::lock_guard<std::mutex> lock(mu_);
    in_flight_ids_.insert(batch->id);
  }
  auto landed_or = landing_.Land(*batch);
  if (!landed_or.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    in_flight_ids_.erase(batch->id);
    return landed_or.status();
  }
  std::string landed = std::move(*landed_or);
  // The raw bytes are in landing now; queued batches need only their columns (this bounds memory by the
  // parsed batches, not by parsed plus raw).
  std::string().swap(batch->landing_data);
  spdlog::debug("landed batch {} ({} records) in {} ms", batch->id, batch->read_records,
                (NowMicros() - land_start) / 1000);
  std::unique_lock<std::mutex> lock(mu_);
  if (!wait_for_room && queue_.size() >= kMaxQueued) {
    in_flight_ids_.erase(batch->id);
    return Status::Retry("pipeline is behind; retry later");
  }
  queue_cv_.wait(lock, [&] { return queue_.size() < kMaxQueued || !error_.ok() || loader_done_; });
  if (!error_.ok() || loader_done_) {
    in_flight_ids_.erase(batch->id);
    return Status::Cancelled("pipeline stopped");
  }
  Pending p;
  p.batch = std::move(batch);
  p.landed_file = std::move(landed);
  p.source = source;
  auto fut = p.done.get_future();
  queue_.push_back(std::move(p));
  metrics_.Set("sluice_queue_depth", "", static_cast<int64_t>(queue_.size()));
  queue_cv_.notify_all();
  return fut;
}

Result<std::map<std::string, int64_t>> Pipeline::ReadCheckpoints(const std::string& source) {
  RecoveryScope scope;
  if (options_.leases) {
    scope.source = source;
    std::lock_guard<std::mutex> lock(mu_);
    scope.skip_batch_ids = in_flight_ids_;
  }
  std::lock_guard<std::mutex> lock(warehouse_mu_);
  if (options_.leases)
    RETURN_IF_ERROR(warehouse_.RecoverFromLanding(config_, scope).WithContext("completing loads of " + source));
  return warehouse_.Checkpoints(source);
}

bool Pipeline::StartUnderLease(SourceState& state, bool drain) {
  Source& src = *state.source;
  bool waiting_logged = false;
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return false;
    }
    auto mine = options_.leases->Acquire(state.lease);
    if (mine.ok() && *mine) break;
    if (!mine.ok()) spdlog::warn("source {}: lease: {}", src.name(), mine.status().message());
    if (drain) {
      spdlog::info("source {}: another worker holds {}; not read here", src.name(), state.lease);
      return false;
    }
    if (!waiting_logged) spdlog::info("source {}: another worker holds {}; waiting for it", src.name(), state.lease);
    waiting_logged = true;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  Status st = src.Start([this](const std::string& source) { return ReadCheckpoints(source); });
  if (!st.ok()) {
    Fail(st.WithContext("source " + src.name()));
    return false;
  }
  spdlog::info("source {}: holding {}; reading", src.name(), state.lease);
  state.started = true;
  return true;
}

std::map<std::string, std::vector<std::string>> Pipeline::HeldPartitions() {
  std::map<std::string, std::vector<std::string>> held;
  for (auto& s : sources_)
    if (s->started && !s->lease_lost) held[s->source->name()] = s->source->Held();
  for (const auto& stream : config_.streams)
    for (const auto& sc : stream.sources)
      if (sc.kind == "http") held[sc.name] = {http_partition_};
  return held;
}

void Pipeline::RunSource(SourceState& state, bool drain) {
  if (!state.started && !StartUnderLease(state, drain)) {
    std::lock_guard<std::mutex> lock(mu_);
    --running_sources_;
    queue_cv_.notify_all();
    return;
  }
  Source& src = *state.source;
  const StreamConfig& stream = src.stream();
  BatchCut cut{stream.batch};
  cut.limits.max_records = warehouse_.BatchRecordsFor(cut.limits.max_records);
  const std::string labels = StreamLabel(stream.name, src.name());
  int64_t backoff_ms = 100;
  std::unique_ptr<Batch> spare;  // a loaded batch, emptied and refilled instead of allocating a new one
  while (true) {
    // Answers from the loader, handled on this thread so sources need no locking of their own.
    std::vector<std::pair<std::unique_ptr<Batch>, LoadOutcome>> outcomes;
    {
      std::lock_guard<std::mutex> lock(state.mu);
      outcomes.swap(state.outcomes);
    }
    for (auto& [b, outcome] : outcomes) {
      src.Settled(*b);
      if (outcome == LoadOutcome::kStale) {
        if (b->epoch == state.epoch) {
          src.Rejected(*b);
          ++state.epoch;
        }
      } else {
        src.Committed(*b);
      }
      if (!spare) spare = std::move(b);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_ && !error_.ok()) break;
    }
    if (state.lease_lost) {
      spdlog::warn("source {}: {} passed to another worker; this worker stops reading it", src.name(), state.lease);
      break;
    }
    std::unique_ptr<Batch> batch = spare ? std::move(spare) : std::make_unique<Batch>(&stream);
    batch->Reset();
    // Room for a full cut (capped), also for a reused batch: its raw bytes were released once landed.
    batch->Reserve(static_cast<size_t>(std::min<int64_t>(cut.limits.max_records, 1 << 20)),
                   static_cast<size_t>(std::min<int64_t>(cut.limits.max_bytes, 256 << 20)));
    batch->source = src.name();
    batch->epoch = state.epoch;
    int64_t read_start = NowMicros();
    Status st = src.Read(*batch, *state.parser, cut, drain);
    metrics_.Add("sluice_read_micros_total", labels, NowMicros() - read_start);
    if (!st.ok() && !st.IsRetry()) {
      Fail(st.WithContext("source " + src.name()));
      break;
    }
    if (st.IsRetry()) {
      spdlog::warn("source {}: {} (retrying in {} ms)", src.name(), st.message(), backoff_ms);
      std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
      backoff_ms = std::min<int64_t>(backoff_ms * 2, 10'000);
    } else {
      backoff_ms = 100;
    }
    metrics_.Set("sluice_source_lag", labels, src.Lag());
    for (const auto& [metric, value] : src.Counters()) metrics_.Set(metric, labels, value);
    if (!batch->empty()) {
      metrics_.Add("sluice_records_read_total", labels, batch->read_records);
      metrics_.Add("sluice_bytes_read_total", labels, batch->read_bytes);
      auto fut = Enqueue(std::move(batch), &src, true);
      if (!fut.ok()) {
        if (fut.status().code() != StatusCode::kCancelled) Fail(fut.status().WithContext("landing"));
        break;
      }
    }
    bool stop;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop = stopping_;
    }
    if (stop || (drain && src.Exhausted())) break;
  }
  // Wait for this source's batches to settle so Committed callbacks (Kafka offsets) run before exit.
  {
    std::unique_lock<std::mutex> lock(mu_);
    queue_cv_.wait(lock, [&] {
      for (const auto& p : queue_)
        if (p.source == &src) return false;
      return true;
    });
  }
  std::vector<std::pair<std::unique_ptr<Batch>, LoadOutcome>> outcomes;
  {
    std::lock_guard<std::mutex> lock(state.mu);
    outcomes.swap(state.outcomes);
  }
  for (auto& [b, outcome] : outcomes) {
    src.Settled(*b);
    if (outcome == LoadOutcome::kLoaded) src.Committed(*b);
  }
  std::lock_guard<std::mutex> lock(mu_);
  --running_sources_;
  queue_cv_.notify_all();
}

void Pipeline::CountLate(Batch& batch) {
  const StreamConfig& s = batch.stream();
  int64_t& newest = max_event_us_.try_emplace(s.name, INT64_MIN).first->second;
  int64_t watermark = newest == INT64_MIN ? INT64_MIN : newest - s.allowed_lateness_us;
  batch.late_rows = 0;
  for (size_t i = 0; i < batch.rows(); ++i) {
    int64_t t = batch.event_time(i);
    if (t < watermark) ++batch.late_rows;
    if (t > newest) newest = t;
  }
}

void Pipeline::RunLoader() {
  while (true) {
    Pending p;
    int64_t taken_at = 0;
    {
      std::unique_lock<std::mutex> lock(mu_);
      queue_cv_.wait(lock, [&] { return !queue_.empty() || (stopping_ && running_sources_ == 0) || !error_.ok(); });
      if (queue_.empty() || !error_.ok()) {
        loader_done_ = true;
        // Anything still queued after an error is not loaded; its source resumes from the checkpoint.
        for (auto& q : queue_) q.done.set_value(Status::Cancelled("pipeline stopped"));
        queue_.clear();
        in_flight_ids_.clear();
        queue_cv_.notify_all();
        return;
      }
      p = std::move(queue_.front());
      taken_at = NowMicros();
      // Stays visible in queue_ (as a moved-from slot) until loaded, so RunSource's settle-wait is right.
    }
    Batch& b = *p.batch;
    const std::string labels = StreamLabel(b.stream().name, b.source);
    Result<LoadOutcome> outcome = LoadOutcome::kStale;
    bool stale_epoch;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stale_epoch = b.epoch < min_epoch_[b.source];
    }
    SourceState* owner = nullptr;
    for (auto& s : sources_)
      if (p.source && s->source.get() == p.source) owner = s.get();
    if (!stale_epoch && owner && !owner->lease.empty()) {
      // A file source's lease passed on (this worker was paused past its lease timeout): its new owner
      // reads on from the checkpoints, so this batch must not commit.
      Status fenced = options_.leases->Fence(owner->lease);
      if (!fenced.ok()) {
        spdlog::warn("source {}: batch {} not loaded: {}", b.source, b.id, fenced.message());
        owner->lease_lost = true;
        stale_epoch = true;
      }
    }
    if (!stale_epoch) {
      CountLate(b);
      int64_t t0 = NowMicros();
      std::lock_guard<std::mutex> wlock(warehouse_mu_);
      outcome = warehouse_.LoadBatch(b, p.landed_file);
      metrics_.Add("sluice_load_micros_total", labels, NowMicros() - t0);
      spdlog::debug("loaded batch {} ({} rows) in {} ms", b.id, b.rows(), (NowMicros() - t0) / 1000);
    }
    if (!outcome.ok()) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        in_flight_ids_.erase(b.id);
      }
      p.done.set_value(outcome.status());
      {
        std::lock_guard<std::mutex> lock(mu_);
        queue_.pop_front();
      }
      Fail(outcome.status());
      continue;
    }
    if (*outcome == LoadOutcome::kLoaded) {
      metrics_.Add("sluice_batches_total", labels, 1);
      metrics_.Add("sluice_rows_loaded_total", labels, static_cast<int64_t>(b.rows()));
      metrics_.Add("sluice_dead_letters_total", labels, static_cast<int64_t>(b.dead_letters.size()));
      metrics_.Add("sluice_late_rows_total", labels, b.late_rows);
      metrics_.Set("sluice_last_loaded_at_seconds", labels, NowMicros() / kMicrosPerSecond);
    } else if (*outcome == LoadOutcome::kStale) {
      spdlog::info(
          "source {}: batch {} is stale (its records were committed by another consumer); re-reading "
          "checkpoints",
          b.source, b.id);
      metrics_.Add("sluice_stale_batches_total", labels, 1);
      std::lock_guard<std::mutex> lock(mu_);
      min_epoch_[b.source] = std::max(min_epoch_[b.source], b.epoch + 1);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      in_flight_ids_.erase(b.id);
    }
    p.done.set_value(*outcome);
    if (owner) {
      std::lock_guard<std::mutex> lock(owner->mu);
      owner->outcomes.emplace_back(std::move(p.batch), *outcome);
    }
    bool idle;
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.pop_front();
      drain_.Drained(NowMicros() - taken_at);
      metrics_.Set("sluice_queue_depth", "", static_cast<int64_t>(queue_.size()));
      queue_cv_.notify_all();
      idle = queue_.empty();
    }
    if (idle) {
      std::lock_guard<std::mutex> wlock(warehouse_mu_);
      Status st = warehouse_.Idle();
      if (!st.ok()) spdlog::warn("warehouse housekeeping: {}", st.ToString());
    }
  }
}

HttpGroupCommit* Pipeline::HttpGroups(const std::string& stream_name) {
  std::lock_guard<std::mutex> lock(http_mu_);
  auto it = http_groups_.find(stream_name);
  if (it != http_groups_.end()) return it->second.get();
  const StreamConfig* stream = config_.FindStream(stream_name);
  const SourceConfig* http = nullptr;
  if (stream)
    for (const auto& sc : stream->sources)
      if (sc.kind == "http") http = &sc;
  if (!http) return nullptr;
  BatchConfig limits = stream->batch;
  limits.max_records = warehouse_.BatchRecordsFor(limits.max_records);
  auto enqueue = [this](std::unique_ptr<Batch> batch) { return Enqueue(std::move(batch), nullptr, true); };
  auto checkpoint = [this, source = http->name]() -> Result<int64_t> {
    std::lock_guard<std::mutex> wlock(warehouse_mu_);
    ASSIGN_OR_RETURN(auto cps, warehouse_.Checkpoints(source));
    auto cp = cps.find(http_partition_);
    return cp == cps.end() ? 0 : cp->second;
  };
  auto group = std::make_unique<HttpGroupCommit>(stream, http, http_partition_, limits, std::move(enqueue),
                                                 std::move(checkpoint), metrics_);
  return http_groups_.emplace(stream_name, std::move(group)).first->second.get();
}

Result<IngestReport> Pipeline::Ingest(const std::string& stream_name, std::string_view body) {
  HttpGroupCommit* groups = HttpGroups(stream_name);
  if (!groups) return Status::NotFound("no stream '" + stream_name + "' with an http source");
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return Status::Retry("pipeline is stopping");
    // Refused only when the loader is really behind: while there is room, a body joins the open group
    // (or opens one), and a group that finds the queue full when its turn comes waits for room.
    if (queue_.size() >= kMaxQueued) {
      metrics_.Add("sluice_http_refused_total", "", 1);
      return Status::Retry("pipeline is behind; retry later");
    }
  }
  return groups->Add(body);
}

int64_t Pipeline::RetryAfterSeconds() {
  std::lock_guard<std::mutex> lock(mu_);
  // The batches that must leave before one more fits.
  size_t over = queue_.size() >= kMaxQueued ? queue_.size() - kMaxQueued + 1 : 1;
  return drain_.SecondsFor(over);
}

Status Pipeline::WithWarehouse(const std::function<Status(Warehouse&)>& fn) {
  std::lock_guard<std::mutex> lock(warehouse_mu_);
  return fn(warehouse_);
}

}  // namespace sluice
