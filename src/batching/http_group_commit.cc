#include "batching/http_group_commit.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "core/time.h"

namespace sluice {
namespace {

// The body's records: its non-blank lines, without a trailing CR.
std::vector<std::string_view> SplitRecords(std::string_view body, int64_t& bytes) {
  std::vector<std::string_view> lines;
  bytes = 0;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t nl = body.find('\n', pos);
    if (nl == std::string_view::npos) nl = body.size();
    std::string_view line = body.substr(pos, nl - pos);
    pos = nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    lines.push_back(line);
    bytes += static_cast<int64_t>(line.size());
  }
  return lines;
}

// What a batch's load outcome means for the bodies in it.
Status BodyStatus(const Result<LoadOutcome>& outcome, const std::string& partition) {
  if (!outcome.ok()) return outcome.status();
  // A duplicate is a batch the ledger already holds with these very positions: its records are in.
  if (*outcome != LoadOutcome::kStale) return Status::Ok();
  return Status::Retry("the positions of partition " + partition +
                       " were committed by another process (two workers with one name?); send the body again");
}

}  // namespace

HttpGroupCommit::HttpGroupCommit(const StreamConfig* stream, const SourceConfig* source, std::string partition,
                                 const BatchConfig& limits, EnqueueFn enqueue, CheckpointFn checkpoint,
                                 Metrics& metrics)
    : stream_(stream),
      source_(source),
      partition_(std::move(partition)),
      limits_(limits),
      group_wait_us_(std::clamp<int64_t>(limits.max_wait_us, 0, kMaxGroupWaitUs)),
      enqueue_(std::move(enqueue)),
      checkpoint_(std::move(checkpoint)),
      metrics_(metrics),
      labels_("stream=\"" + stream->name + "\",source=\"" + source->name + "\""),
      parser_(stream) {}

void HttpGroupCommit::CutOpen() {
  if (!open_) return;
  open_->cut = true;
  open_.reset();
  ++in_flight_;
  cv_.notify_all();
}

Result<IngestReport> HttpGroupCommit::Add(std::string_view body) {
  int64_t bytes = 0;
  const std::vector<std::string_view> records = SplitRecords(body, bytes);
  if (records.empty()) return IngestReport{};
  const int64_t n = static_cast<int64_t>(records.size());

  std::unique_lock<std::mutex> lock(mu_);
  if (next_sequence_ < 0) {
    ASSIGN_OR_RETURN(next_sequence_, checkpoint_());
  }
  // A body that would take the open group past the batch limits goes in the next group.
  if (open_ &&
      (open_->batch->read_records + n > limits_.max_records || open_->batch->read_bytes + bytes > limits_.max_bytes))
    CutOpen();
  const bool leader = !open_;
  if (leader) {
    open_ = std::make_shared<Group>();
    open_->batch = std::make_unique<Batch>(stream_);
    open_->batch->source = source_->name;
    open_->partition = open_->batch->PartitionIndex(partition_);
    open_->deadline_us = NowMicros() + group_wait_us_;
    open_->ticket = next_ticket_++;
  }
  std::shared_ptr<Group> g = open_;
  Batch& batch = *g->batch;
  const size_t rows_before = batch.rows();
  const size_t dead_before = batch.dead_letters.size();
  for (std::string_view record : records) {
    parser_.LandAndParse(record, g->partition, next_sequence_, next_sequence_ + 1, batch);
    ++next_sequence_;
  }
  IngestReport report{"", static_cast<int64_t>(batch.rows() - rows_before),
                      static_cast<int64_t>(batch.dead_letters.size() - dead_before)};
  metrics_.Add("sluice_records_read_total", labels_, n);
  metrics_.Add("sluice_bytes_read_total", labels_, bytes);
  metrics_.Add("sluice_http_bodies_total", labels_, 1);
  if (Full(batch)) CutOpen();

  Status st;
  if (leader) {
    st = Lead(lock, g);
  } else {
    lock.unlock();
    st = g->outcome.get();
  }
  if (!st.ok()) return st;
  report.batch_id = g->batch_id;
  return report;
}

Status HttpGroupCommit::Lead(std::unique_lock<std::mutex>& lock, const std::shared_ptr<Group>& g) {
  while (!g->cut) {
    const int64_t left = g->deadline_us - NowMicros();
    if (left <= 0 && in_flight_ < kMaxGroupsInFlight) {
      CutOpen();  // still open, so it is open_
      break;
    }
    if (left > 0)
      cv_.wait_for(lock, std::chrono::microseconds(left));
    else
      cv_.wait(lock);  // until a group in flight is answered, or this one is cut (full)
  }
  // Groups queue in sequence order, so each commits after the one before it (the checkpoint fence refuses
  // positions behind the checkpoint).
  cv_.wait(lock, [&] { return turn_ == g->ticket; });
  std::unique_ptr<Batch> batch = std::move(g->batch);
  g->batch_id = batch->id;
  lock.unlock();
  auto queued = enqueue_(std::move(batch));
  lock.lock();
  ++turn_;
  cv_.notify_all();
  lock.unlock();

  Status st = queued.ok() ? BodyStatus(queued->get(), partition_) : queued.status();
  lock.lock();
  --in_flight_;
  // Stale: the checkpoint is past this group. Start again from it with the next group (an open group keeps
  // the numbers it has; it will come back stale too, and reset then).
  if (st.IsRetry() && queued.ok() && !open_) next_sequence_ = -1;
  cv_.notify_all();
  lock.unlock();
  g->committed.set_value(st);
  return st;
}

}  // namespace sluice
