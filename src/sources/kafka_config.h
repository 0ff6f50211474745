// Kafka client configuration for a `kafka` source: turns a SourceConfig (brokers, group, topic, pass-through
// `options`) into the rd_kafka_conf_t librdkafka wants, with the settings exactly-once loading depends on
// (no auto-commit: the warehouse checkpoint is the position, Kafka commits are advisory) and a redacted
// description safe to log. Kept apart from the consumer loop (kafka_source.cc) because it is pure mapping.
// Thread-safety: free functions over values; thread-safe.
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/status.h"

namespace sluice {

struct KafkaConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
using KafkaConfPtr = std::unique_ptr<rd_kafka_conf_t, KafkaConfDeleter>;

// Builds the consumer config of `source`: bootstrap.servers, group.id, client.id ("sluice-<source name>"
// unless given), enable.auto.commit=false, enable.auto.offset.store=false, auto.offset.reset=earliest and
// enable.partition.eof=true (drain mode needs to know where the end is), session.timeout.ms=10000 (a killed
// worker's partitions move on in seconds), then every `options` entry, which
// may override those defaults. Returns Invalid naming the offending key when librdkafka rejects one; the value
// of a secret key is never part of the message.
Result<KafkaConfPtr> BuildKafkaConsumerConf(const SourceConfig& source);

// The settings BuildKafkaConsumerConf applies, as "key=value" lines in order, with secrets redacted: what a
// log line or `sluice status` may show.
std::vector<std::string> DescribeKafkaConf(const SourceConfig& source);

// True for librdkafka keys whose values are credentials (sasl.password, ssl.key.password, *secret*, ...).
bool IsSecretKafkaKey(std::string_view key);

// The topics of a source: its `topic` field split on commas, blanks trimmed, empties dropped.
std::vector<std::string> KafkaTopics(const SourceConfig& source);

// The checkpoint partition name of a Kafka partition: "<topic>/<partition>".
std::string KafkaPartitionName(std::string_view topic, int32_t partition);

}  // namespace sluice
