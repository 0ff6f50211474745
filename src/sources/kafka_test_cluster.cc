#include "sources/kafka_test_cluster.h"

#include <atomic>
#include <string>

namespace sluice {

namespace {

rd_kafka_t* NewClient(rd_kafka_type_t type, const std::vector<std::pair<std::string, std::string>>& settings,
                      std::string& error) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char errstr[512];
  for (const auto& [k, v] : settings) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
      error = errstr;
      rd_kafka_conf_destroy(conf);
      return nullptr;
    }
  }
  if (type == RD_KAFKA_PRODUCER) {
    rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t*, const rd_kafka_message_t* m, void*) {
      if (m->err && m->_private) static_cast<std::atomic<int64_t>*>(m->_private)->fetch_add(1);
    });
  }
  rd_kafka_t* rk = rd_kafka_new(type, conf, errstr, sizeof errstr);
  if (rk == nullptr) {
    error = errstr;
    rd_kafka_conf_destroy(conf);
  }
  return rk;
}

}  // namespace

Result<std::unique_ptr<KafkaTestCluster>> KafkaTestCluster::Start(int brokers) {
  std::unique_ptr<KafkaTestCluster> c(new KafkaTestCluster());
  std::string error;
  // The mock cluster lives in a client handle's threads; a producer handle with no brokers is the usual host.
  c->mock_handle_ = NewClient(RD_KAFKA_PRODUCER, {{"log_level", "3"}}, error);
  if (c->mock_handle_ == nullptr) return Status::Internal("mock cluster host: " + error);
  c->cluster_ = rd_kafka_mock_cluster_new(c->mock_handle_, brokers);
  if (c->cluster_ == nullptr) return Status::Internal("rd_kafka_mock_cluster_new failed");
  c->bootstrap_ = rd_kafka_mock_cluster_bootstraps(c->cluster_);
  c->producer_ = NewClient(RD_KAFKA_PRODUCER,
                           {{"bootstrap.servers", c->bootstrap_},
                            {"linger.ms", "5"},
                            {"enable.idempotence", "true"},  // no duplicates from producer retries
                            {"log_level", "3"}},
                           error);
  if (c->producer_ == nullptr) return Status::Internal("test producer: " + error);
  return c;
}

KafkaTestCluster::~KafkaTestCluster() {
  if (producer_) {
    rd_kafka_flush(producer_, 10'000);
    rd_kafka_destroy(producer_);
  }
  if (cluster_) rd_kafka_mock_cluster_destroy(cluster_);
  if (mock_handle_) rd_kafka_destroy(mock_handle_);
}

Status KafkaTestCluster::CreateTopic(const std::string& topic, int partitions) {
  rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, 1);
  if (err) return Status::Internal("creating topic " + topic + ": " + rd_kafka_err2str(err));
  return Status::Ok();
}

Status KafkaTestCluster::Produce(const std::string& topic, const std::vector<std::string>& messages, int32_t partition,
                                 int partitions) {
  std::atomic<int64_t> failed{0};
  for (size_t i = 0; i < messages.size(); ++i) {
    int32_t p = partition >= 0 ? partition : static_cast<int32_t>(i % static_cast<size_t>(std::max(partitions, 1)));
    while (true) {
      rd_kafka_resp_err_t err =
          rd_kafka_producev(producer_, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(p),
                            RD_KAFKA_V_VALUE(const_cast<char*>(messages[i].data()), messages[i].size()),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(&failed), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(producer_, 10);
        continue;
      }
      if (err) return Status::Internal("producing to " + topic + ": " + rd_kafka_err2str(err));
      break;
    }
    rd_kafka_poll(producer_, 0);
  }
  rd_kafka_resp_err_t err = rd_kafka_flush(producer_, 30'000);
  if (err) return Status::Retry("flushing producer: " + std::string(rd_kafka_err2str(err)));
  if (failed.load() > 0) return Status::Internal(std::to_string(failed.load()) + " messages were not delivered");
  return Status::Ok();
}

Result<std::pair<int64_t, int64_t>> KafkaTestCluster::Watermarks(const std::string& topic, int32_t partition) {
  int64_t low = -1, high = -1;
  rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(producer_, topic.c_str(), partition, &low, &high, 10'000);
  if (err) return Status::Retry("watermarks of " + topic + ": " + rd_kafka_err2str(err));
  return std::make_pair(low, high);
}

Status KafkaTestCluster::CommitOffset(const std::string& group, const std::string& topic, int32_t partition,
                                      int64_t offset) {
  std::string error;
  rd_kafka_t* rk = NewClient(RD_KAFKA_CONSUMER,
                             {{"bootstrap.servers", bootstrap_},
                              {"group.id", group},
                              {"enable.auto.commit", "false"},
                              {"session.timeout.ms", "6000"},
                              {"heartbeat.interval.ms", "250"},
                              {"log_level", "3"}},
                             error);
  if (rk == nullptr) return Status::Internal("committing consumer: " + error);
  rd_kafka_poll_set_consumer(rk);
  // The mock coordinator, like a real one, refuses commits from outside a group it knows, so this client
  // joins the group for as long as the commit takes.
  rd_kafka_topic_partition_list_t* sub = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(sub, topic.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, sub);
  rd_kafka_topic_partition_list_destroy(sub);
  bool assigned = false;
  for (int i = 0; i < 300 && !err && !assigned; ++i) {
    if (rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 50)) rd_kafka_message_destroy(m);
    rd_kafka_topic_partition_list_t* a = nullptr;
    if (rd_kafka_assignment(rk, &a) == RD_KAFKA_RESP_ERR_NO_ERROR && a) {
      assigned = a->cnt > 0;
      rd_kafka_topic_partition_list_destroy(a);
    }
  }
  if (!err && !assigned) err = RD_KAFKA_RESP_ERR__TIMED_OUT;
  if (!err) {
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, topic.c_str(), partition)->offset = offset;
    err = rd_kafka_commit(rk, list, 0);
    if (!err && list->elems[0].err) err = list->elems[0].err;
    rd_kafka_topic_partition_list_destroy(list);
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  if (err) return Status::Retry("committing offset: " + std::string(rd_kafka_err2str(err)));
  return Status::Ok();
}

Result<int64_t> KafkaTestCluster::CommittedOffset(const std::string& group, const std::string& topic,
                                                  int32_t partition) {
  std::string error;
  rd_kafka_t* rk =
      NewClient(RD_KAFKA_CONSUMER, {{"bootstrap.servers", bootstrap_}, {"group.id", group}, {"log_level", "3"}}, error);
  if (rk == nullptr) return Status::Internal("committed-offset consumer: " + error);
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, topic.c_str(), partition);
  rd_kafka_resp_err_t err = rd_kafka_committed(rk, list, 10'000);
  int64_t offset = list->elems[0].offset;
  if (!err && list->elems[0].err) err = list->elems[0].err;
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_destroy(rk);
  if (err) return Status::Retry("reading committed offset: " + std::string(rd_kafka_err2str(err)));
  return offset;
}

}  // namespace sluice
