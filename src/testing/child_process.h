// Test-only helpers for tests that run real servers (ZooKeeper, clickhouse-server, ...) as child processes on
// loopback: a child process started by fork + exec and stopped by its PID (never by name), free loopback
// ports, finding a binary, small file helpers. Linked into test binaries only, never into `sluice`.
// Thread-safety: the free functions are thread-safe. A ChildProcess is used from one thread; that thread must
// outlive the process (PR_SET_PDEATHSIG: the child dies with the thread that started it, so a crashed test
// leaves no server behind).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "core/status.h"

namespace sluice {

// `n` distinct free TCP ports on 127.0.0.1. All are held open until every one is chosen so that the same port
// is not handed out twice; another process may still take one before the caller binds it.
Result<std::vector<int>> FreeLoopbackPorts(int n);

// `configured` if it is executable (empty when it is not), else `name` found in PATH, then in /usr/sbin,
// /usr/bin, /sbin, /bin. Empty when not found.
std::string FindExecutable(const std::string& configured, const std::string& name);

// Writes `text` to `path`, replacing it.
Status WriteTextFile(const std::string& path, const std::string& text);

// The last `bytes` of the file at `path`; empty if it cannot be read.
std::string FileTail(const std::string& path, size_t bytes);

// A directory made with mkdtemp from `prefix` ("/tmp/sluice-zookeeper-").
Result<std::string> MakeTempDir(const std::string& prefix);

class ChildProcess {
 public:
  ChildProcess() = default;
  // Kills the process (SIGKILL) if it still runs, and reaps it.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ChildProcess(ChildProcess&& other) noexcept;  // the PID moves with it
  ChildProcess& operator=(ChildProcess&& other) noexcept;

  std::string name;               // for messages: "zookeeper", "clickhouse-1"
  std::vector<std::string> argv;  // argv[0] is the binary's path
  std::string stdio_path;         // stdout and stderr of the process are appended here

  // Starts argv with stdin from /dev/null. Io when the log cannot be opened or fork fails; a failing exec shows
  // as the process exiting with status 127.
  Status Start();
  // Whether the process runs; reaps it (and forgets its PID) once it has exited.
  bool Running();
  // Sends `signal` and waits up to `timeout` for the process to exit, then SIGKILLs it. Returns once it is
  // reaped. Does nothing if it does not run.
  void Stop(int signal, std::chrono::milliseconds timeout);
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

}  // namespace sluice
