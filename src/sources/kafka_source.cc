#include "sources/kafka_source.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

#include "core/time.h"
#include "sources/kafka_config.h"

namespace sluice {

namespace {

// Poll at most this long at a time, so Stop() and the batch deadline are noticed promptly.
constexpr int kMaxPollMs = 100;
// Messages taken from librdkafka's queue per call: one call per message set rather than per message saves a
// lock, a wake-up check and a clock read per record, and a set is handed to the parser in one go.
constexpr size_t kConsumeBatch = 1024;
// How long a seek may wait for the client to apply it.
constexpr int kSeekTimeoutMs = 10'000;
// librdkafka before 2.2 stops fetching a partition once the prefetch queue holds queued.max.messages.kbytes,
// and looks again only when its broker thread next wakes: up to 1 s later. A consumer that drains the queue
// sooner waits that long with messages on the broker (a 1 KB queue: 28 s for 20,000 messages, 9 s woken). Any
// request wakes a broker's thread, so an empty queue with lag sends one (2.2 has fetch.queue.backoff.ms).
const bool kWakeFetchers = rd_kafka_version() < 0x020200ff;
// At most one wake-up per this long; the request answers in one round trip.
constexpr int64_t kWakeFetchersEveryUs = 20'000;
constexpr int kWakeTimeoutMs = 1'000;

// librdkafka's own log lines go to spdlog, at the matching level (syslog levels: 0 emerg .. 7 debug).
void LogCallback(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  const char* client = rk ? rd_kafka_name(rk) : "kafka";
  if (level <= 3)
    spdlog::error("{} {}: {}", client, facility, message);
  else if (level <= 4)
    spdlog::warn("{} {}: {}", client, facility, message);
  else if (level <= 6)
    spdlog::info("{} {}: {}", client, facility, message);
  else
    spdlog::debug("{} {}: {}", client, facility, message);
}

std::string Join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const { rd_kafka_topic_partition_list_destroy(l); }
};
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

// A digest of every partition range of a batch. The default id names only the first record, and after a
// rebalance two consumers can each cut a batch starting at the same offset with different contents; the
// second must be refused as stale, not taken for a replay of the first (and must not overwrite its landed
// file). Equal ranges of a Kafka log are equal records, so equal ids still mean a true replay.
std::string RangesDigest(const Batch& batch) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
  };
  for (const auto& [pname, r] : batch.ranges) {
    mix(pname);
    mix(":" + std::to_string(r.first) + ":" + std::to_string(r.next) + ";");
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return std::string(hex, 12);
}

}  // namespace

KafkaSource::KafkaSource(const StreamConfig* stream, const SourceConfig* config) : Source(stream, config) {}

KafkaSource::~KafkaSource() {
  if (rk_ == nullptr) return;
  closing_ = true;  // the revoke that closing triggers is answered at once
  // Leaving the group explicitly hands our partitions to the others now rather than after a session timeout.
  rd_kafka_resp_err_t err = rd_kafka_consumer_close(rk_);
  if (err) spdlog::warn("kafka source {}: closing consumer: {}", name(), rd_kafka_err2str(err));
  if (pending_assign_) rd_kafka_topic_partition_list_destroy(pending_assign_);
  if (deferred_revoke_) rd_kafka_topic_partition_list_destroy(deferred_revoke_);
  if (consumer_queue_) rd_kafka_queue_destroy(consumer_queue_);
  rd_kafka_destroy(rk_);
}

Status KafkaSource::Start(CheckpointReader checkpoints) {
  if (rk_ != nullptr) return Status::Internal("kafka source " + name() + " started twice");
  checkpoints_ = std::move(checkpoints);
  ASSIGN_OR_RETURN(KafkaConfPtr conf, BuildKafkaConsumerConf(*config_));
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_rebalance_cb(conf.get(), &KafkaSource::RebalanceCallback);
  rd_kafka_conf_set_log_cb(conf.get(), &LogCallback);
  // Kafka commits are advisory; one refused during a rebalance is routine, not worth a warning (with a
  // callback set, librdkafka reports the result here instead of logging COMMITFAIL).
  rd_kafka_conf_set_offset_commit_cb(
      conf.get(), [](rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t*, void*) {
        if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
          spdlog::debug("{}: advisory offset commit refused: {}", rd_kafka_name(rk), rd_kafka_err2str(err));
      });
  char errstr[512];
  rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), errstr, sizeof errstr);
  if (rk_ == nullptr) return Status::Invalid("kafka source " + name() + ": creating consumer: " + errstr);
  conf.release();  // rd_kafka_new owns it now
  rd_kafka_poll_set_consumer(rk_);
  // The consumer queue is where rd_kafka_consumer_poll reads: consuming from it in batches serves rebalance
  // callbacks the same way (a message set may still hold records of partitions just revoked; Handle drops
  // those, as it drops any record of a partition no longer assigned).
  consumer_queue_ = rd_kafka_queue_get_consumer(rk_);

  std::vector<std::string> topics = KafkaTopics(*config_);
  PartitionList subscription(rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
  for (const auto& t : topics) rd_kafka_topic_partition_list_add(subscription.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t err = rd_kafka_subscribe(rk_, subscription.get());
  if (err) return Status::Invalid("kafka source " + name() + ": subscribing: " + rd_kafka_err2str(err));
  spdlog::info("kafka source {}: subscribed to {} ({})", name(), Join(topics, ","),
               Join(DescribeKafkaConf(*config_), " "));
  return Status::Ok();
}

void KafkaSource::RebalanceCallback(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                                    void* opaque) {
  (void)rk;
  static_cast<KafkaSource*>(opaque)->OnRebalance(err, parts);
}

void KafkaSource::OnRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts) {
  cooperative_ = std::strcmp(rd_kafka_rebalance_protocol(rk_), "COOPERATIVE") == 0;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    if (pending_assign_ == nullptr) {
      pending_assign_ = rd_kafka_topic_partition_list_copy(parts);
    } else {
      for (int i = 0; i < parts->cnt; ++i)
        rd_kafka_topic_partition_list_add(pending_assign_, parts->elems[i].topic, parts->elems[i].partition);
    }
    // On failure the partitions stay pending; Read retries and reports Retry meanwhile.
    Status st = AssignPending();
    if (!st.ok()) spdlog::warn("kafka source {}: assignment waits for checkpoints: {}", name(), st.ToString());
    return;
  }
  // A revoke is answered (unassigned, so the rebalance can complete) only once every batch holding records
  // of those partitions is loaded: the next owner then starts from checkpoints that include them, instead of
  // racing this worker to load the same records. Meanwhile the partitions are paused and the open batch is
  // cut at once. An error (the group lost us) or closing is answered at once.
  if (deferred_revoke_ != nullptr) {
    rd_kafka_topic_partition_list_destroy(deferred_revoke_);
    deferred_revoke_ = nullptr;
  }
  if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS && !closing_) {
    std::set<std::string> revoking = RevokedNames(parts);
    if (HoldsRecordsOf(revoking)) {
      deferred_revoke_ = rd_kafka_topic_partition_list_copy(parts);
      rd_kafka_pause_partitions(rk_, deferred_revoke_);
      cut_now_ = true;
      spdlog::info("kafka source {} ({}): revoke of [{}] waits until the batches holding their records are loaded",
                   name(), rd_kafka_name(rk_), Join({revoking.begin(), revoking.end()}, ","));
      return;
    }
  }
  RevokeNow(err, parts);
}

std::set<std::string> KafkaSource::RevokedNames(rd_kafka_topic_partition_list_t* parts) const {
  std::set<std::string> names;
  if (cooperative_) {
    for (int i = 0; i < parts->cnt; ++i) names.insert(KafkaPartitionName(parts->elems[i].topic, parts->elems[i].partition));
  } else {
    for (const auto& [pname, st] : assigned_) names.insert(pname);  // eager: everything goes
  }
  return names;
}

bool KafkaSource::HoldsRecordsOf(const std::set<std::string>& partitions) const {
  for (const auto& p : partitions) {
    if (open_batch_ != nullptr && open_batch_->ranges.count(p)) return true;
    for (const auto& [id, held] : unsettled_)
      if (held.count(p)) return true;
  }
  return false;
}

void KafkaSource::FinishDeferredRevoke() {
  if (deferred_revoke_ == nullptr || HoldsRecordsOf(RevokedNames(deferred_revoke_))) return;
  rd_kafka_topic_partition_list_t* parts = deferred_revoke_;
  deferred_revoke_ = nullptr;
  rd_kafka_resume_partitions(rk_, parts);  // pausing is per assignment; the next owner fetches afresh anyway
  RevokeNow(RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS, parts);
  rd_kafka_topic_partition_list_destroy(parts);
}

void KafkaSource::RevokeNow(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts) {
  std::vector<std::string> names;
  if (cooperative_ && err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    for (int i = 0; i < parts->cnt; ++i) {
      std::string pname = KafkaPartitionName(parts->elems[i].topic, parts->elems[i].partition);
      names.push_back(pname);
      assigned_.erase(pname);
      if (pending_assign_)
        rd_kafka_topic_partition_list_del(pending_assign_, parts->elems[i].topic, parts->elems[i].partition);
    }
    rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk_, parts);
    if (e) {
      spdlog::warn("kafka source {}: incremental unassign: {}", name(), rd_kafka_error_string(e));
      rd_kafka_error_destroy(e);
    }
  } else {
    if (err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
      spdlog::warn("kafka source {}: rebalance error: {}", name(), rd_kafka_err2str(err));
    // Eager protocol: everything is revoked and the new assignment follows in the same rebalance. If a
    // partition comes straight back, reading goes on from where this consumer was (see AssignPending).
    revoked_next_.clear();
    for (const auto& [pname, st] : assigned_) {
      names.push_back(pname);
      if (st.next >= 0) revoked_next_[pname] = st.next;
    }
    assigned_.clear();
    assignment_seen_ = false;  // the new assignment is on its way; until then "all at end" means nothing
    if (pending_assign_) {
      rd_kafka_topic_partition_list_destroy(pending_assign_);
      pending_assign_ = nullptr;
    }
    if (cooperative_) {
      rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk_, parts);
      if (e) rd_kafka_error_destroy(e);
    } else {
      rd_kafka_assign(rk_, nullptr);
    }
  }
  PublishHeld();
  spdlog::info("kafka source {} ({}): revoked [{}]", name(), rd_kafka_name(rk_), Join(names, ","));
}

Status KafkaSource::AssignPending() {
  if (pending_assign_ == nullptr) return Status::Ok();
  auto committed =
      checkpoints_ ? checkpoints_(name()) : Result<std::map<std::string, int64_t>>(std::map<std::string, int64_t>{});
  if (!committed.ok()) return committed.status().WithContext("reading checkpoints of " + name());
  std::vector<std::string> described;
  for (int i = 0; i < pending_assign_->cnt; ++i) {
    rd_kafka_topic_partition_t& p = pending_assign_->elems[i];
    std::string pname = KafkaPartitionName(p.topic, p.partition);
    PartitionState st{p.topic, p.partition, -1, false};
    auto cp = committed->find(pname);
    if (cp != committed->end()) st.next = cp->second;
    // A partition revoked and handed straight back in one (eager) rebalance: records up to revoked_next_
    // are already in this consumer's open or queued batches; starting at the checkpoint would put them in
    // twice. If those batches turn out stale, Rejected() re-seeks to the checkpoint anyway.
    auto mine = revoked_next_.find(pname);
    if (mine != revoked_next_.end() && mine->second > st.next) st.next = mine->second;
    // The same for the batch being read right now, whatever the protocol (a cooperative rebalance can take a
    // partition away and give it back later): its records of the partition must not be read into it twice.
    // Whoever committed past the batch's first offset meanwhile makes it stale, and then Rejected() re-seeks.
    if (open_batch_ != nullptr) {
      auto in_batch = open_batch_->ranges.find(pname);
      if (in_batch != open_batch_->ranges.end() && in_batch->second.next > st.next) st.next = in_batch->second.next;
    }
    p.offset = st.next >= 0 ? st.next : RD_KAFKA_OFFSET_BEGINNING;
    described.push_back(pname + "@" + (st.next >= 0 ? std::to_string(st.next) : "beginning"));
    assigned_[pname] = std::move(st);
  }
  if (cooperative_) {
    rd_kafka_error_t* e = rd_kafka_incremental_assign(rk_, pending_assign_);
    if (e) {
      std::string msg = rd_kafka_error_string(e);
      rd_kafka_error_destroy(e);
      return Status::Retry("kafka source " + name() + ": incremental assign: " + msg);
    }
  } else {
    rd_kafka_resp_err_t err = rd_kafka_assign(rk_, pending_assign_);
    if (err) return Status::Retry("kafka source " + name() + ": assign: " + rd_kafka_err2str(err));
  }
  rd_kafka_topic_partition_list_destroy(pending_assign_);
  pending_assign_ = nullptr;
  revoked_next_.clear();
  assignment_seen_ = true;
  PublishHeld();
  spdlog::info("kafka source {} ({}): assigned [{}] at warehouse checkpoints", name(), rd_kafka_name(rk_),
               Join(described, ","));
  return Status::Ok();
}

Status KafkaSource::Reseek() {
  if (assigned_.empty()) {
    reseek_ = false;
    return Status::Ok();
  }
  auto committed =
      checkpoints_ ? checkpoints_(name()) : Result<std::map<std::string, int64_t>>(std::map<std::string, int64_t>{});
  if (!committed.ok()) return committed.status().WithContext("reading checkpoints of " + name());
  PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(assigned_.size())));
  for (auto& [pname, st] : assigned_) {
    auto cp = committed->find(pname);
    st.next = cp != committed->end() ? cp->second : -1;
    st.eof = false;
    rd_kafka_topic_partition_list_add(list.get(), st.topic.c_str(), st.partition)->offset =
        st.next >= 0 ? st.next : RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_error_t* e = rd_kafka_seek_partitions(rk_, list.get(), kSeekTimeoutMs);
  if (e) {
    std::string msg = rd_kafka_error_string(e);
    rd_kafka_error_destroy(e);
    return Status::Retry("kafka source " + name() + ": seek: " + msg);
  }
  for (int i = 0; i < list->cnt; ++i)
    if (list->elems[i].err)
      return Status::Retry("kafka source " + name() + ": seek " +
                           KafkaPartitionName(list->elems[i].topic, list->elems[i].partition) + ": " +
                           rd_kafka_err2str(list->elems[i].err));
  reseek_ = false;
  spdlog::info("kafka source {}: re-seeked {} partitions to warehouse checkpoints", name(), assigned_.size());
  return Status::Ok();
}

bool KafkaSource::AllAtEnd() const {
  for (const auto& [pname, st] : assigned_)
    if (!st.eof && !(st.next >= 0 && Behind(st) == 0)) return false;
  return true;
}

std::optional<int64_t> KafkaSource::Behind(const PartitionState& st) const {
  int64_t low = -1, high = -1;
  if (rd_kafka_get_watermark_offsets(rk_, st.topic.c_str(), st.partition, &low, &high) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      high < 0)
    return std::nullopt;
  const int64_t position = st.next >= 0 ? st.next : std::max<int64_t>(low, 0);
  return std::max<int64_t>(0, high - position);
}

Status KafkaSource::Handle(rd_kafka_message_t* msg, Batch& batch, RecordParser& parser, LastPartition& last) {
  if (msg->err) {
    if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (msg->rkt == nullptr) return Status::Ok();
      auto it = assigned_.find(KafkaPartitionName(rd_kafka_topic_name(msg->rkt), msg->partition));
      spdlog::debug("kafka source {}: end of {}/{} at {}", name(), rd_kafka_topic_name(msg->rkt), msg->partition,
                    msg->offset);
      if (it != assigned_.end() && msg->offset >= it->second.next) {
        it->second.eof = true;
        if (it->second.next < 0) it->second.next = msg->offset;
      }
      return Status::Ok();
    }
    if (msg->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || msg->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
      std::string topic = msg->rkt ? rd_kafka_topic_name(msg->rkt) : config_->topic;
      if (missing_topic_ != topic) spdlog::warn("kafka source {}: topic {} does not exist (yet)", name(), topic);
      missing_topic_ = topic;
      return Status::Ok();
    }
    char fatal[512];
    if (rd_kafka_fatal_error(rk_, fatal, sizeof fatal))
      return Status::Internal("kafka source " + name() + ": fatal client error: " + fatal);
    // Broker down, timeouts and the like: librdkafka retries by itself.
    spdlog::warn("kafka source {}: {}", name(), rd_kafka_message_errstr(msg));
    return Status::Ok();
  }
  if (msg->rkt != last.topic || msg->partition != last.partition) {
    last = {msg->rkt, msg->partition, nullptr, 0};
    std::string pname = KafkaPartitionName(rd_kafka_topic_name(msg->rkt), msg->partition);
    auto it = assigned_.find(pname);
    bool going_away = deferred_revoke_ != nullptr && RevokedNames(deferred_revoke_).count(pname);
    if (it != assigned_.end() && !going_away) last.state = &it->second, last.batch_index = batch.PartitionIndex(pname);
  }
  // Not ours any more (or going away), or from before a seek: the client filters these by version; this is a
  // second guard.
  if (last.state == nullptr || msg->offset < last.state->next) {
    spdlog::debug("kafka source {}: skipped {}/{}@{} (not assigned, or before the position)", name(),
                  rd_kafka_topic_name(msg->rkt), msg->partition, msg->offset);
    return Status::Ok();
  }
  last.state->next = msg->offset + 1;
  last.state->eof = false;
  missing_topic_.clear();

  std::string_view payload(msg->payload ? static_cast<const char*>(msg->payload) : "", msg->len);
  parser.LandAndParse(payload, last.batch_index, msg->offset, msg->offset + 1, batch);
  return Status::Ok();
}

Status KafkaSource::Read(Batch& batch, RecordParser& parser, const BatchCut& cut, bool drain) {
  // A batch read into again (tests do; the pipeline passes a fresh one) gets its digest recomputed.
  if (&batch == digested_batch_ && batch.id == digested_id_) {
    unsettled_.erase(digested_id_);  // it gets a new id below
    batch.id = digested_base_;
  }
  const int64_t read_from = NowMicros(), cpu_from = ThreadCpuMicros(), waited_before = waited_us_,
                wakeups_before = fetcher_wakeups_;
  Status st = Poll(batch, parser, cut, drain);
  // Wall time against this thread's CPU time and its waits for messages: the rest is time it was ready but not
  // running (the loader's DuckDB threads and librdkafka's share the cores).
  if (batch.read_records > 0)
    spdlog::debug(
        "kafka source {}: read {} records in {} ms: {} ms on a core, {} ms waiting with none queued ({} "
        "wake-ups)",
        name(), batch.read_records, (NowMicros() - read_from) / 1000, (ThreadCpuMicros() - cpu_from) / 1000,
        (waited_us_ - waited_before) / 1000, fetcher_wakeups_ - wakeups_before);
  if (!batch.empty()) {
    digested_batch_ = &batch;
    digested_base_ = batch.id;
    batch.id += "-" + RangesDigest(batch);
    digested_id_ = batch.id;
    auto& held = unsettled_[batch.id];
    for (const auto& [pname, range] : batch.ranges) held.insert(pname);
  }
  return st;
}

Status KafkaSource::Poll(Batch& batch, RecordParser& parser, const BatchCut& cut, bool drain) {
  if (rk_ == nullptr) return Status::Internal("kafka source " + name() + " read before Start");
  exhausted_ = false;
  if (reseek_) {
    Status st = Reseek();
    if (!st.ok()) return Status::Retry(st.message());
  }
  FinishDeferredRevoke();
  if (pending_assign_) {
    Status st = AssignPending();
    if (!st.ok()) return Status::Retry(st.message());
  }
  open_batch_ = &batch;
  struct Reset {
    const Batch*& p;
    ~Reset() { p = nullptr; }
  } reset{open_batch_};
  // Poll at least once per Read even past the deadline: group membership and rebalances only progress
  // while the consumer is polled.
  for (bool first = true; !stopping_; first = false) {
    if (cut.Full(batch)) return Status::Ok();
    if (cut_now_ && !batch.empty()) {  // a deferred revoke waits for this batch
      cut_now_ = false;
      return Status::Ok();
    }
    int64_t left_us = cut.Deadline(batch) - NowMicros();
    if (left_us <= 0 && !first) return Status::Ok();
    int timeout_ms = static_cast<int>(std::clamp<int64_t>((left_us + 999) / 1000, 0, kMaxPollMs));
    // Never more than the batch has room for, so max_records cuts exactly as with one message at a time.
    size_t room = static_cast<size_t>(
        std::clamp<int64_t>(cut.limits.max_records - batch.read_records, 1, static_cast<int64_t>(kConsumeBatch)));
    rd_kafka_message_t* messages[kConsumeBatch];
    // What is queued now, without waiting; only when nothing is, wait for the next message. (Asked for a
    // full set with a timeout, librdkafka waits until the set is full or the time is up, which a steady
    // trickle pays as latency.)
    ssize_t n = rd_kafka_consume_batch_queue(consumer_queue_, 0, messages, room);
    if (n == 0) {
      if (kWakeFetchers && NowMicros() - last_wake_us_ >= kWakeFetchersEveryUs && Lag() > 0) WakeFetchers();
      const int64_t wait_from = NowMicros();
      n = rd_kafka_consume_batch_queue(consumer_queue_, timeout_ms, messages, 1);
      waited_us_ += NowMicros() - wait_from;
    }
    if (n < 0) return Status::Retry("kafka source " + name() + ": consuming: " + std::strerror(errno));
    // Records of partitions still assigned are kept even when the rebalance inside this call left an
    // assignment pending (Handle skips what is not assigned): under the cooperative protocol the others go on.
    Status st;
    LastPartition last;  // valid for this set only: a rebalance inside the next call may change assigned_
    for (ssize_t i = 0; i < n; ++i) {
      if (st.ok()) st = Handle(messages[i], batch, parser, last);
      rd_kafka_message_destroy(messages[i]);
    }
    if (!st.ok()) return st;
    if (pending_assign_) {  // the rebalance inside this call could not read checkpoints
      st = AssignPending();
      if (!st.ok()) return Status::Retry(st.message());
      continue;
    }
    if (n == 0) {
      // Nothing came: with drain, done once every partition held is at its end (or the topic is missing).
      if (drain && assignment_seen_ && (AllAtEnd() || (!missing_topic_.empty() && assigned_.empty()))) {
        exhausted_ = true;
        return Status::Ok();
      }
      continue;
    }
    if (drain && assignment_seen_ && AllAtEnd()) {
      exhausted_ = true;
      return Status::Ok();
    }
  }
  return Status::Ok();
}

void KafkaSource::WakeFetchers() {
  last_wake_us_ = NowMicros();
  PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(assigned_.size())));
  // A ListOffsets request (timestamp -1: the latest offset) to the leader of each assigned partition; the
  // answer is not needed, only the broker threads' wake-up, after which they fetch again.
  for (const auto& [pname, st] : assigned_)
    rd_kafka_topic_partition_list_add(list.get(), st.topic.c_str(), st.partition)->offset = -1;
  rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(rk_, list.get(), kWakeTimeoutMs);
  ++fetcher_wakeups_;
  if (err) spdlog::debug("kafka source {}: waking the fetchers: {}", name(), rd_kafka_err2str(err));
}

void KafkaSource::Committed(const Batch& batch) {
  Settled(batch);
  if (rk_ == nullptr) return;
  PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(batch.ranges.size())));
  for (const auto& [pname, range] : batch.ranges) {
    auto it = assigned_.find(pname);
    // A partition that moved on belongs to its new owner's commits.
    if (it == assigned_.end() || range.next < 0) continue;
    rd_kafka_topic_partition_list_add(list.get(), it->second.topic.c_str(), it->second.partition)->offset = range.next;
  }
  if (list->cnt == 0) return;
  rd_kafka_resp_err_t err = rd_kafka_commit(rk_, list.get(), 1);
  if (err) spdlog::debug("kafka source {}: commit: {}", name(), rd_kafka_err2str(err));
}

void KafkaSource::Settled(const Batch& batch) {
  unsettled_.erase(batch.id);
}

void KafkaSource::Rejected(const Batch& batch) {
  Settled(batch);
  spdlog::info("kafka source {}: batch {} was stale; re-seeking to warehouse checkpoints", name(), batch.id);
  reseek_ = true;
  // Positions from a revoke are this consumer's own reads, which the stale batch just proved unsafe.
  revoked_next_.clear();
}

int64_t KafkaSource::Lag() const {
  if (rk_ == nullptr) return -1;
  int64_t lag = 0;
  bool known = false;
  for (const auto& [pname, st] : assigned_) {
    if (std::optional<int64_t> behind = Behind(st)) {
      lag += *behind;
      known = true;
    }
  }
  return known ? lag : -1;
}

void KafkaSource::PublishHeld() {
  std::vector<std::string> now = Assigned();
  std::lock_guard<std::mutex> lock(held_mu_);
  held_ = std::move(now);
}

std::vector<std::string> KafkaSource::Held() const {
  std::lock_guard<std::mutex> lock(held_mu_);
  return held_;
}

std::vector<std::string> KafkaSource::Assigned() const {
  std::vector<std::string> out;
  for (const auto& [pname, st] : assigned_) out.push_back(pname);
  return out;
}

}  // namespace sluice
