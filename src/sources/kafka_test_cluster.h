// KafkaTestCluster: librdkafka's mock cluster (rdkafka_mock.h) — real Kafka protocol on loopback, brokers
// inside this process — plus a producer against it, for tests, the crash test and the kafka_mock_cluster
// tool. Nothing here is used by `sluice run`.
// Thread-safety: Produce, Watermarks and CommitOffset may be called from any thread (librdkafka handles are
// thread-safe); construction and destruction from one.
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace sluice {

class KafkaTestCluster {
 public:
  // Starts a mock cluster of `brokers` brokers listening on loopback.
  static Result<std::unique_ptr<KafkaTestCluster>> Start(int brokers = 3);
  ~KafkaTestCluster();
  KafkaTestCluster(const KafkaTestCluster&) = delete;
  KafkaTestCluster& operator=(const KafkaTestCluster&) = delete;

  // "127.0.0.1:port,..." for bootstrap.servers.
  const std::string& bootstrap_servers() const { return bootstrap_; }

  // Creates `topic` with `partitions` partitions (replication factor 1).
  Status CreateTopic(const std::string& topic, int partitions);

  // Produces `messages` to `topic`, message i to partition `partition`, or round-robin over `partitions`
  // partitions when `partition` is -1; returns once every one is acknowledged (or failed).
  Status Produce(const std::string& topic, const std::vector<std::string>& messages, int32_t partition = -1,
                 int partitions = 1);

  // Low and high watermark of a partition, asked of its leader.
  Result<std::pair<int64_t, int64_t>> Watermarks(const std::string& topic, int32_t partition);

  // Commits `offset` for (topic, partition) in consumer group `group`, joining the group to do it (takes a
  // few seconds: the mock coordinator delays a group's first join). Tests use it to plant a misleading
  // committed offset.
  Status CommitOffset(const std::string& group, const std::string& topic, int32_t partition, int64_t offset);

  // Kafka's committed offset of (topic, partition) in `group`, or -1001 (RD_KAFKA_OFFSET_INVALID) when none.
  Result<int64_t> CommittedOffset(const std::string& group, const std::string& topic, int32_t partition);

 private:
  KafkaTestCluster() = default;

  rd_kafka_t* mock_handle_ = nullptr;  // owns the mock cluster
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  rd_kafka_t* producer_ = nullptr;
  std::string bootstrap_;
};

}  // namespace sluice
