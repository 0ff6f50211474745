// kafka_mock_cluster: starts librdkafka's mock Kafka cluster on loopback, prints
// `bootstrap.servers=<list>` and serves until SIGINT/SIGTERM, so kcat, sluice and the crash test can talk to
// a real Kafka protocol endpoint without a broker installed.
//   kafka_mock_cluster [--brokers N] [--topic NAME:PARTITIONS]...
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "sources/kafka_test_cluster.h"

int main(int argc, char** argv) {
  int brokers = 3;
  std::vector<std::pair<std::string, int>> topics;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--brokers" && i + 1 < argc) {
      brokers = std::atoi(argv[++i]);
    } else if (a == "--topic" && i + 1 < argc) {
      std::string t = argv[++i];
      size_t colon = t.rfind(':');
      if (colon == std::string::npos)
        topics.emplace_back(t, 1);
      else
        topics.emplace_back(t.substr(0, colon), std::atoi(t.c_str() + colon + 1));
    } else {
      std::fprintf(stderr, "usage: %s [--brokers N] [--topic NAME:PARTITIONS]...\n", argv[0]);
      return 2;
    }
  }
  // Block the signals before librdkafka starts its threads, so only sigwait below sees them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  auto cluster = sluice::KafkaTestCluster::Start(brokers);
  if (!cluster.ok()) {
    std::fprintf(stderr, "kafka_mock_cluster: %s\n", cluster.status().ToString().c_str());
    return 1;
  }
  for (const auto& [name, partitions] : topics) {
    sluice::Status st = (*cluster)->CreateTopic(name, partitions);
    if (!st.ok()) {
      std::fprintf(stderr, "kafka_mock_cluster: %s\n", st.ToString().c_str());
      return 1;
    }
  }
  std::printf("bootstrap.servers=%s\n", (*cluster)->bootstrap_servers().c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  return 0;
}
