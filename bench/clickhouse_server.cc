// clickhouse_server: one clickhouse-server on loopback for bench/ingest (the test fixture, with its data in a
// temp dir), until SIGTERM or SIGINT. Prints "url=http://127.0.0.1:PORT" once it answers.
#include <signal.h>
#include <unistd.h>

#include <cstdio>

#include "warehouse/clickhouse/clickhouse_test_cluster.h"

int main() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  sluice::ClickHouseTestCluster::Options options;
  options.reader_settings.clear();
  auto cluster = sluice::ClickHouseTestCluster::Start(options);
  if (!cluster.ok()) {
    std::fprintf(stderr, "%s\n", cluster.status().ToString().c_str());
    return 1;
  }
  std::printf("url=%s\n", (*cluster)->http_url(0).c_str());
  std::fflush(stdout);
  int signal = 0;
  sigwait(&signals, &signal);
  return 0;  // the fixture stops the server and removes its data
}
