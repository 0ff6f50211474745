// ClickHouseTestCluster: real clickhouse-server processes on loopback for the ClickHouse backend's tests:
// one server alone, or two servers in a cluster `sluice_cluster` (2 shards x 1 replica, or 1 shard x 2
// replicas) coordinated by one standalone ZooKeeper. Every process gets free ports on 127.0.0.1, its config
// and data under one temp dir, and is stopped by its PID (SIGTERM, then SIGKILL) when the fixture is
// destroyed; the temp dir is removed then. The system services of the Debian packages are never used.
// Test-only: linked into test binaries, never into `sluice`.
//
// Each server has two users, both without password and reachable from 127.0.0.1 only:
//   default  profile `default`: may do anything (DDL, inserts, settings in the URL).
//   reader   profile `reader`: readonly = 1 plus Options::reader_settings, fixed by the profile (a reader
//            cannot change any setting, not even in the URL).
//
// Thread-safety: Query and the accessors may be called from any thread; Start, Kill, Restart and destruction
// from one thread, which must outlive the fixture (the processes get PR_SET_PDEATHSIG: they die with the
// thread that started them, so a crashed test leaves none behind).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "testing/child_process.h"
#include "testing/zookeeper_test_server.h"

namespace sluice {

class ClickHouseTestCluster {
 public:
  enum class Layout {
    kSingle,       // one server, no ZooKeeper, no remote_servers
    kTwoShards,    // two servers, each its own shard of sluice_cluster (one replica each)
    kTwoReplicas,  // two servers, two replicas of the one shard of sluice_cluster (internal_replication)
  };

  struct Options {
    Layout layout = Layout::kSingle;
    // Empty: found in PATH, then /usr/sbin and /usr/bin.
    std::string clickhouse_server;
    std::string java;
    std::string zookeeper_jar = "/usr/share/java/zookeeper.jar";         // its manifest names its dependencies
    std::string slf4j_binding_jar = "/usr/share/java/slf4j-simple.jar";  // ZooKeeper logs to its stderr file
    std::chrono::seconds start_timeout{30};                              // per process
    // Settings of the `reader` user's profile, besides readonly = 1.
    std::map<std::string, std::string> reader_settings = {
        {"max_execution_time", "2"}, {"max_result_rows", "1000"}, {"result_overflow_mode", "break"}};
  };

  // Starts the processes of `options.layout` and returns once every server answers `GET /ping` (and, in a
  // cluster, sees ZooKeeper). NotFound when a binary is missing; TimedOut or Internal, with the tail of the
  // process's log, when a process exits or is not ready within start_timeout.
  static Result<std::unique_ptr<ClickHouseTestCluster>> Start(const Options& options);
  static Result<std::unique_ptr<ClickHouseTestCluster>> Start(Layout layout);
  ~ClickHouseTestCluster();
  ClickHouseTestCluster(const ClickHouseTestCluster&) = delete;
  ClickHouseTestCluster& operator=(const ClickHouseTestCluster&) = delete;

  static constexpr const char* kClusterName = "sluice_cluster";

  Layout layout() const { return options_.layout; }
  int servers() const { return static_cast<int>(servers_.size()); }
  // "http://127.0.0.1:<port>" of server i (0-based).
  std::string http_url(int i) const;
  int http_port(int i) const { return servers_.at(i).http_port; }
  int tcp_port(int i) const { return servers_.at(i).tcp_port; }
  // The cluster name for ON CLUSTER and Distributed(); empty for kSingle.
  std::string cluster_name() const { return options_.layout == Layout::kSingle ? "" : kClusterName; }
  // "127.0.0.1:<port>" of ZooKeeper; empty for kSingle.
  std::string zookeeper_address() const;
  // The values of the {shard} and {replica} macros of server i.
  const std::string& shard_macro(int i) const { return servers_.at(i).shard; }
  const std::string& replica_macro(int i) const { return servers_.at(i).replica; }
  // The fixture's temp dir (configs, data, logs).
  const std::string& dir() const { return dir_; }

  // Runs `sql` on server i by HTTP POST (the SQL is the body, `data` follows it on the next line when not
  // empty, e.g. the rows of an `INSERT ... FORMAT JSONEachRow`). `url_params` are extra query-string
  // parameters, already encoded ("readonly=1&max_result_rows=10"). Returns the response body on HTTP 200;
  // otherwise a status whose message is ClickHouse's error text ("Code: 159, e.displayText() = ..."), Retry
  // when the server could not be reached.
  Result<std::string> Query(int i, const std::string& sql, const std::string& url_params = "",
                            const std::string& data = "") const;

  // SIGKILLs server i and waits for it to exit; its data stays. Ok if it was not running.
  Status Kill(int i);
  // Stops server i if it runs (SIGTERM, SIGKILL past 10 s), starts it again on the same ports and data, and
  // waits until it is ready.
  Status Restart(int i);
  // Whether server i's process is running.
  bool Running(int i);
  // The last `bytes` of server i's log (server log, then error log and stderr).
  std::string LogTail(int i, size_t bytes = 4000) const;

 private:
  struct Server {
    ChildProcess process;
    int http_port = 0, tcp_port = 0, interserver_port = 0;
    std::string dir, shard, replica;
  };

  explicit ClickHouseTestCluster(Options options) : options_(std::move(options)) {}
  Status StartZooKeeper();
  Status WriteServerConfig(int i);
  Status StartServer(int i);
  Status WaitServerReady(int i);

  Options options_;
  std::string dir_;
  std::string clickhouse_server_;
  std::unique_ptr<ZooKeeperTestServer> zookeeper_;  // kTwoShards, kTwoReplicas
  int zookeeper_port_ = 0;
  std::vector<Server> servers_;
};

}  // namespace sluice
