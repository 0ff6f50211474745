// KafkaSource: a member of a Kafka consumer group that reads one stream's records from its topic(s).
//
// Positions come from the warehouse, not from Kafka: on every partition assignment the rebalance callback
// reads the warehouse checkpoints ("<topic>/<partition>" -> next offset) and assigns at them (partitions
// without one start at the beginning). A batch may still hold records of a partition that a rebalance gave
// to another consumer; it cannot be cleaned after the fact, so the warehouse's fence refuses it (LoadBatch
// answers kStale) and Rejected() re-seeks the partitions still held to the checkpoints. Commits to Kafka
// happen after a batch is loaded and are advisory (for lag tools). DESIGN.md, semantics 1.
//
// Thread-safety: driven by one thread (Start, Read, Committed, Rejected, Lag, the destructor); librdkafka
// runs the rebalance callback on that thread, inside Read's poll. Stop() may be called from any thread.
#pragma once

#include <librdkafka/rdkafka.h>

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sources/source.h"

namespace sluice {

class KafkaSource : public Source {
 public:
  KafkaSource(const StreamConfig* stream, const SourceConfig* config);
  // Leaves the group (so the others get its partitions at once) and frees the client.
  ~KafkaSource() override;
  KafkaSource(const KafkaSource&) = delete;
  KafkaSource& operator=(const KafkaSource&) = delete;

  // Creates the consumer and subscribes to the topic(s); partitions arrive with the first rebalance, inside
  // Read. Returns Invalid for a bad config.
  Status Start(CheckpointReader checkpoints) override;
  // Polls until the batch is full, its deadline passes, Stop() is called, or (with `drain`) every assigned
  // partition is at its end. Returns Retry when checkpoints could not be read for an assignment or a
  // re-seek (the partitions wait unassigned until a later Read succeeds), Internal on a fatal client error.
  // The batch id gets a digest of all its partition ranges appended (see RangesDigest in kafka_source.cc).
  Status Read(Batch& batch, RecordParser& parser, const BatchCut& cut, bool drain) override;
  bool Exhausted() const override { return exhausted_; }
  // Commits the batch's next offsets of the partitions still assigned to Kafka, asynchronously.
  void Committed(const Batch& batch) override;
  // Re-seeks every assigned partition to its warehouse checkpoint at the start of the next Read.
  void Rejected(const Batch& batch) override;
  // The batch is loaded, refused or dropped: a revoke waiting for it may be answered. Committed and
  // Rejected settle their batch too.
  void Settled(const Batch& batch) override;
  // Sum over assigned partitions of high watermark minus position, from the client's cached watermarks;
  // -1 before any is known.
  int64_t Lag() const override;
  // sluice_kafka_fetcher_wakeups_total: WakeFetchers calls. sluice_kafka_wait_micros_total: time the source
  // waited for messages with none queued (against sluice_read_micros_total: how much of reading is waiting).
  std::vector<std::pair<std::string, int64_t>> Counters() const override {
    return {{"sluice_kafka_fetcher_wakeups_total", fetcher_wakeups_}, {"sluice_kafka_wait_micros_total", waited_us_}};
  }

  // The partitions this consumer holds now, as checkpoint names, sorted.
  std::vector<std::string> Assigned() const;
  // The same, from any thread (a copy taken at each assignment change).
  std::vector<std::string> Held() const override;

 private:
  struct PartitionState {
    std::string topic;
    int32_t partition = 0;
    int64_t next = -1;  // next offset to accept; -1 until known (started at the beginning)
    bool eof = false;   // the last thing seen was the end of the partition
  };

  static void RebalanceCallback(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                                void* opaque);
  void OnRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts);
  // Unassigns `parts` (everything, eager) now.
  void RevokeNow(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts);
  // The checkpoint names a revoke of `parts` takes away.
  std::set<std::string> RevokedNames(rd_kafka_topic_partition_list_t* parts) const;
  // Whether the open batch or a batch not yet settled holds records of one of `partitions`.
  bool HoldsRecordsOf(const std::set<std::string>& partitions) const;
  // Answers the deferred revoke once no batch holds records of its partitions.
  void FinishDeferredRevoke();
  // Assigns pending_assign_ at the warehouse checkpoints; on failure keeps it pending.
  Status AssignPending();
  // Seeks all assigned partitions to the warehouse checkpoints.
  Status Reseek();
  // Read's loop; Read then makes the batch id name all its ranges.
  Status Poll(Batch& batch, RecordParser& parser, const BatchCut& cut, bool drain);
  // The partition of the message handled last, with what Handle looked up for it: the messages of one call
  // come a message set, so one partition, at a time.
  struct LastPartition {
    const rd_kafka_topic_t* topic = nullptr;
    int32_t partition = -1;
    PartitionState* state = nullptr;  // null: not ours (any more)
    uint32_t batch_index = 0;         // Batch::PartitionIndex
  };
  // Handles one polled message; returns non-Ok only for a fatal client error.
  Status Handle(rd_kafka_message_t* msg, Batch& batch, RecordParser& parser, LastPartition& last);
  // Whether every assigned partition is read to its end: its end-of-partition event came, or it is read up to
  // the high watermark its client last heard of. The fetch that brings a partition's last messages brings
  // that mark too, while the event waits for the next fetch, which the broker holds up to fetch.wait.max.ms
  // (500 ms) when it has nothing to send: a drain (--once) would end that much later.
  bool AllAtEnd() const;
  // Records between `st`'s position (the low watermark while unknown) and the high watermark its client last
  // heard of; nullopt while that mark is unknown. Lag() is their sum.
  std::optional<int64_t> Behind(const PartitionState& st) const;
  // Wakes librdkafka's broker threads, which before 2.2 sleep up to 1 s after the prefetch queue was full.
  void WakeFetchers();

  CheckpointReader checkpoints_;
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_queue_t* consumer_queue_ = nullptr;  // messages and rebalance events, read a message set at a time
  bool cooperative_ = false;
  std::map<std::string, PartitionState> assigned_;  // checkpoint name -> state
  std::map<std::string, int64_t> revoked_next_;     // positions of the last revoke, for a same-rebalance reassign
  rd_kafka_topic_partition_list_t* pending_assign_ = nullptr;  // assignment waiting for its checkpoints
  const Batch* open_batch_ = nullptr;  // the batch Read is filling (rebalance callbacks run inside Read)
  bool reseek_ = false;                // a batch was rejected: re-read checkpoints before reading on
  bool assignment_seen_ = false;       // a rebalance completed (an empty assignment is an answer too)
  bool exhausted_ = false;
  const Batch* digested_batch_ = nullptr;  // the last batch whose id got a digest: its id with and without
  std::string digested_id_, digested_base_;
  std::string missing_topic_;  // set when the broker says a subscribed topic does not exist
  std::map<std::string, std::set<std::string>> unsettled_;  // batch id -> partitions, read but not yet settled
  rd_kafka_topic_partition_list_t* deferred_revoke_ = nullptr;  // a revoke waiting for unsettled batches
  bool cut_now_ = false;   // cut the open batch: a deferred revoke waits for it
  bool closing_ = false;   // the destructor's close: answer revokes at once
  int64_t last_wake_us_ = 0;     // WakeFetchers' last call
  int64_t fetcher_wakeups_ = 0;  // WakeFetchers calls so far
  int64_t waited_us_ = 0;        // time spent waiting for messages with none queued
  mutable std::mutex held_mu_;
  std::vector<std::string> held_;  // Assigned(), for other threads
  void PublishHeld();
};

}  // namespace sluice
