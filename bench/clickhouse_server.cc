// clickhouse_server: clickhouse-server on loopback for bench/ingest, bench/scale and examples/scale-out (the
// test fixture, with its data in a temp dir), until SIGTERM or SIGINT; the fixture stops every process it
// started and removes the temp dir then.
//   clickhouse_server              one server; prints "url=http://127.0.0.1:PORT" once it answers
//   clickhouse_server --replicas   two replicas of one shard of sluice_cluster and their ZooKeeper; prints
//                                  "url=...", "url2=...", "cluster=sluice_cluster", "zookeeper=127.0.0.1:PORT"
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "warehouse/clickhouse/clickhouse_test_cluster.h"

int main(int argc, char** argv) {
  sluice::ClickHouseTestCluster::Options options;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--replicas") == 0) {
      options.layout = sluice::ClickHouseTestCluster::Layout::kTwoReplicas;
    } else {
      std::fprintf(stderr, "usage: %s [--replicas]\n", argv[0]);
      return 2;
    }
  }
  // Blocked before the fixture starts threads or children, so only sigwait below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  options.reader_settings.clear();
  auto cluster = sluice::ClickHouseTestCluster::Start(options);
  if (!cluster.ok()) {
    std::fprintf(stderr, "%s\n", cluster.status().ToString().c_str());
    return 1;
  }
  std::printf("url=%s\n", (*cluster)->http_url(0).c_str());
  if (options.layout == sluice::ClickHouseTestCluster::Layout::kTwoReplicas) {
    std::printf("url2=%s\n", (*cluster)->http_url(1).c_str());
    std::printf("cluster=%s\n", (*cluster)->cluster_name().c_str());
    std::printf("zookeeper=%s\n", (*cluster)->zookeeper_address().c_str());
  }
  std::fflush(stdout);
  int signal = 0;
  sigwait(&signals, &signal);
  return 0;  // the fixture stops the servers and ZooKeeper and removes their data
}
