// ZooKeeperTestServer: one standalone ZooKeeper (Debian's zookeeper jar under a Java runtime) on a loopback
// port, its config and data in a directory of its own, for tests: the ClickHouse cluster fixture's
// replication and the coordination module's leases. Started by fork + exec, stopped by its PID (SIGTERM,
// then SIGKILL) when stopped or destroyed; the system service of the Debian package is never used.
// Test-only: linked into test binaries, never into `sluice`.
//
// Thread-safety: address(), port() and LogTail() from any thread; Start, Stop and destruction from one thread,
// which must outlive the server (it gets PR_SET_PDEATHSIG: it dies with that thread, so a crashed test leaves
// none behind).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/status.h"
#include "testing/child_process.h"

namespace sluice {

class ZooKeeperTestServer {
 public:
  struct Options {
    // Empty: a new temp dir, removed when the server is destroyed (kept if SLUICE_KEEP_TEST_DIRS is set).
    // Otherwise the caller's directory, which the caller owns (config, data and log go in it).
    std::string dir;
    int port = 0;  // 0: a free loopback port
    // Empty: found in PATH, then /usr/sbin and /usr/bin.
    std::string java;
    std::string zookeeper_jar = "/usr/share/java/zookeeper.jar";         // its manifest names its dependencies
    std::string slf4j_binding_jar = "/usr/share/java/slf4j-simple.jar";  // ZooKeeper logs to its log file
    // ZooKeeper's time unit. Sessions may last from 2 to 20 ticks: 1 s to 10 s with the default.
    int tick_ms = 500;
    std::chrono::seconds start_timeout{30};
  };

  // Starts ZooKeeper and returns once it serves requests (four-letter `srvr` says "Mode: standalone").
  // NotFound when java or the jar is missing; Internal or TimedOut, with the tail of its log, when it exits or
  // is not serving within start_timeout.
  static Result<std::unique_ptr<ZooKeeperTestServer>> Start(const Options& options);
  static Result<std::unique_ptr<ZooKeeperTestServer>> Start() { return Start(Options{}); }
  ~ZooKeeperTestServer();
  ZooKeeperTestServer(const ZooKeeperTestServer&) = delete;
  ZooKeeperTestServer& operator=(const ZooKeeperTestServer&) = delete;

  // "127.0.0.1:<port>", the connect string for clients.
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  pid_t pid() const { return process_.pid(); }
  bool Running() { return process_.Running(); }
  // Stops the server by its PID: `signal` (SIGTERM, or SIGKILL for a crash), SIGKILL past `timeout`.
  void Stop(int signal, std::chrono::milliseconds timeout);
  // The last `bytes` of its log.
  std::string LogTail(size_t bytes = 4000) const { return FileTail(process_.stdio_path, bytes); }

 private:
  explicit ZooKeeperTestServer(Options options) : options_(std::move(options)) {}
  Status Run();

  Options options_;
  std::string dir_;
  bool own_dir_ = false;
  int port_ = 0;
  ChildProcess process_;
};

// ZooKeeper's four-letter `srvr` on 127.0.0.1:port: true once it serves requests. (`ruok` is not enough: it
// answers "imok" before the server takes sessions.)
bool ZooKeeperServing(int port);

}  // namespace sluice
