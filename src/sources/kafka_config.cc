#include "sources/kafka_config.h"

#include <algorithm>
#include <cctype>
#include <utility>

namespace sluice {

namespace {

// The settings in the order they are applied; later entries override earlier ones (options come last).
std::vector<std::pair<std::string, std::string>> Settings(const SourceConfig& source) {
  std::vector<std::pair<std::string, std::string>> s = {
      {"bootstrap.servers", source.brokers},
      {"group.id", source.group.empty() ? "sluice" : source.group},
      {"client.id", "sluice-" + source.name},
      // The warehouse checkpoint is the consumer's position; what Kafka stores is only for lag tools.
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      // A partition with no checkpoint starts at the beginning, so nothing produced before the first run is
      // skipped (we assign explicit offsets anyway; this covers offsets that fell out of retention).
      {"auto.offset.reset", "earliest"},
      {"enable.partition.eof", "true"},
      // A worker killed with -9 holds its partitions until its session times out; librdkafka's 45 s default
      // stalls the group that long after every crash. 10 s is Kafka's long-standing default.
      {"session.timeout.ms", "10000"},
      {"heartbeat.interval.ms", "1000"},
      // Prefetch bounded by bytes, not by messages. With the group consumer the message count is of the one
      // queue all partitions share, so librdkafka's 100,000 is reached by a fraction of one batch; fetching
      // then stops until the next broker-thread wake-up, and reading 1 M events took twice as long (measured,
      // bench/ingest --kafka). queued.max.messages.kbytes (64 MiB) still bounds the memory.
      {"queued.min.messages", "1000000"},
  };
  // A partition whose prefetch queue is full is fetched again after fetch.queue.backoff.ms (1 s by default):
  // a consumer that drains the queue sooner waits with messages on the broker. librdkafka before 2.2 has no
  // such setting and KafkaSource wakes its fetchers instead.
  if (rd_kafka_version() >= 0x020200ff) s.emplace_back("fetch.queue.backoff.ms", "10");
  for (const auto& [k, v] : source.kafka_options) s.emplace_back(k, v);
  return s;
}

}  // namespace

bool IsSecretKafkaKey(std::string_view key) {
  std::string k(key);
  std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* word :
       {"password", "secret", "token", "sasl.oauthbearer.config", "sasl.jaas", "ssl.key.pem", "ssl_key", "credential"})
    if (k.find(word) != std::string::npos) return true;
  return false;
}

Result<KafkaConfPtr> BuildKafkaConsumerConf(const SourceConfig& source) {
  if (source.brokers.empty()) return Status::Invalid("kafka source " + source.name + ": brokers is empty");
  if (KafkaTopics(source).empty()) return Status::Invalid("kafka source " + source.name + ": topic is empty");
  KafkaConfPtr conf(rd_kafka_conf_new());
  char errstr[512];
  for (const auto& [key, value] : Settings(source)) {
    if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
      // librdkafka's message may quote the value; for a credential say only which key was refused.
      std::string why = IsSecretKafkaKey(key) ? "invalid value (not shown: secret)" : std::string(errstr);
      return Status::Invalid("kafka source " + source.name + ": option '" + key + "': " + why);
    }
  }
  return conf;
}

std::vector<std::string> DescribeKafkaConf(const SourceConfig& source) {
  std::vector<std::string> out;
  for (const auto& [key, value] : Settings(source)) out.push_back(key + "=" + (IsSecretKafkaKey(key) ? "***" : value));
  return out;
}

std::vector<std::string> KafkaTopics(const SourceConfig& source) {
  std::vector<std::string> topics;
  std::string_view rest = source.topic;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view t = rest.substr(0, comma);
    while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.remove_prefix(1);
    while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.remove_suffix(1);
    if (!t.empty()) topics.emplace_back(t);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return topics;
}

std::string KafkaPartitionName(std::string_view topic, int32_t partition) {
  std::string name(topic);
  name += '/';
  name += std::to_string(partition);
  return name;
}

}  // namespace sluice
