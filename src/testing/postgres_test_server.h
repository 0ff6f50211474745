// PostgresTestServer: one PostgreSQL 15 server (Debian's binaries under /usr/lib/postgresql/15/bin) on a
// loopback port, its cluster made by initdb in a directory of its own, for the marts' tests. Started by
// fork + exec, stopped by its PID (SIGINT: fast shutdown, then SIGKILL) when stopped or destroyed; the
// system service of the Debian package is never used. PostgreSQL refuses to run as root: when the test runs
// as root, initdb and postgres run as the `postgres` user through setpriv (which re-arms the parent-death
// signal that a change of user clears), in a directory handed to that user.
// Test-only: linked into test binaries, never into `sluice`.
//
// Thread-safety: conninfo(), port() and LogTail() from any thread; Start, Stop and destruction from one
// thread, which must outlive the server (it dies with that thread, so a crashed test leaves none behind).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/status.h"
#include "testing/child_process.h"

namespace sluice {

class PostgresTestServer {
 public:
  struct Options {
    std::string bin_dir = "/usr/lib/postgresql/15/bin";
    int port = 0;  // 0: a free loopback port
    std::chrono::seconds start_timeout{60};
  };

  // Runs initdb into a new temp dir (removed when the server is destroyed, kept if SLUICE_KEEP_TEST_DIRS is
  // set), starts postgres and returns once it accepts connections (postmaster.pid says "ready"). NotFound when
  // the binaries are missing; Internal or TimedOut, with the tail of the log, when initdb fails or the server
  // exits or is not ready within start_timeout.
  static Result<std::unique_ptr<PostgresTestServer>> Start(const Options& options);
  static Result<std::unique_ptr<PostgresTestServer>> Start() { return Start(Options{}); }
  ~PostgresTestServer();
  PostgresTestServer(const PostgresTestServer&) = delete;
  PostgresTestServer& operator=(const PostgresTestServer&) = delete;

  // A libpq connection string for the superuser `postgres` on database `postgres` (trust authentication).
  std::string conninfo() const {
    return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=postgres";
  }
  int port() const { return port_; }
  pid_t pid() const { return process_.pid(); }
  bool Running() { return process_.Running(); }
  // Stops the server by its PID: `signal` (SIGINT for a fast shutdown, SIGKILL for a crash), SIGKILL past
  // `timeout`.
  void Stop(int signal, std::chrono::milliseconds timeout);
  std::string LogTail(size_t bytes = 4000) const { return FileTail(process_.stdio_path, bytes); }

 private:
  explicit PostgresTestServer(Options options) : options_(std::move(options)) {}
  Status Run();
  // argv run as the postgres user when this process is root.
  std::vector<std::string> AsServerUser(std::vector<std::string> argv) const;

  Options options_;
  std::string dir_;
  int port_ = 0;
  ChildProcess process_;
};

}  // namespace sluice
