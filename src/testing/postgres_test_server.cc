#include "testing/postgres_test_server.h"

#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace sluice {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

// Line 8 of postmaster.pid is the postmaster's status; "ready" once it accepts connections.
bool PostmasterReady(const std::string& data_dir) {
  std::ifstream in(data_dir + "/postmaster.pid");
  std::string line;
  for (int i = 0; i < 8 && std::getline(in, line); ++i) {
  }
  return line.rfind("ready", 0) == 0;
}

// Gives `dir` and everything under it to `user`.
Status Chown(const std::string& dir, uid_t uid, gid_t gid) {
  if (::chown(dir.c_str(), uid, gid) != 0) return Status::Io("chown " + dir);
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (::chown(e.path().c_str(), uid, gid) != 0) return Status::Io("chown " + e.path().string());
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<PostgresTestServer>> PostgresTestServer::Start(const Options& options) {
  std::unique_ptr<PostgresTestServer> p(new PostgresTestServer(options));
  RETURN_IF_ERROR(p->Run());
  return p;
}

std::vector<std::string> PostgresTestServer::AsServerUser(std::vector<std::string> argv) const {
  if (::geteuid() != 0) return argv;
  std::vector<std::string> wrapped = {FindExecutable("", "setpriv"), "--reuid=postgres", "--regid=postgres",
                                      "--init-groups", "--pdeathsig=KILL"};
  wrapped.insert(wrapped.end(), argv.begin(), argv.end());
  return wrapped;
}

Status PostgresTestServer::Run() {
  const std::string initdb = options_.bin_dir + "/initdb", postgres = options_.bin_dir + "/postgres";
  if (access(initdb.c_str(), X_OK) != 0 || access(postgres.c_str(), X_OK) != 0)
    return Status::NotFound(options_.bin_dir + ": no initdb/postgres (install the Debian package postgresql)");
  ASSIGN_OR_RETURN(dir_, MakeTempDir("/tmp/sluice-postgres-"));
  if (::geteuid() == 0) {
    const passwd* pw = ::getpwnam("postgres");
    if (!pw) return Status::NotFound("PostgreSQL will not run as root, and there is no user postgres");
    if (FindExecutable("", "setpriv").empty()) return Status::NotFound("setpriv not found (util-linux)");
    RETURN_IF_ERROR(Chown(dir_, pw->pw_uid, pw->pw_gid));
  }
  port_ = options_.port;
  if (port_ == 0) {
    ASSIGN_OR_RETURN(std::vector<int> ports, FreeLoopbackPorts(1));
    port_ = ports[0];
  }
  const std::string data = dir_ + "/data";
  {
    ChildProcess init;
    init.name = "initdb";
    init.stdio_path = dir_ + "/initdb.log";
    init.argv = AsServerUser({initdb, "-D", data, "-U", "postgres", "--auth=trust", "--no-locale",
                              "--encoding=UTF8", "--no-sync"});
    RETURN_IF_ERROR(init.Start());
    auto deadline = Clock::now() + options_.start_timeout;
    while (init.Running()) {
      if (Clock::now() > deadline) {
        init.Stop(SIGKILL, milliseconds(0));
        return Status::TimedOut("initdb did not finish; its log ends with:\n" + FileTail(init.stdio_path, 4000));
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
    if (!fs::exists(data + "/PG_VERSION") || !fs::exists(data + "/global/pg_control"))
      return Status::Internal("initdb failed; its log ends with:\n" + FileTail(init.stdio_path, 4000));
  }
  process_.name = "postgres";
  process_.stdio_path = dir_ + "/postgres.log";
  // Durability is not what these tests are about: fsync off keeps them fast on a shared disk.
  process_.argv = AsServerUser({postgres, "-D", data, "-k", dir_, "-p", std::to_string(port_), "-h", "127.0.0.1",
                                "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                                "-c", "shared_buffers=32MB", "-c", "max_connections=40"});
  RETURN_IF_ERROR(process_.Start());
  auto deadline = Clock::now() + options_.start_timeout;
  while (!PostmasterReady(data)) {
    if (!process_.Running()) return Status::Internal("postgres exited at start; its log ends with:\n" + LogTail());
    if (Clock::now() > deadline) {
      std::string tail = LogTail();
      process_.Stop(SIGKILL, milliseconds(0));
      return Status::TimedOut("postgres not ready on port " + std::to_string(port_) + "; its log ends with:\n" +
                              tail);
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  return Status::Ok();
}

void PostgresTestServer::Stop(int signal, milliseconds timeout) { process_.Stop(signal, timeout); }

PostgresTestServer::~PostgresTestServer() {
  process_.Stop(SIGINT, milliseconds(10'000));
  if (!dir_.empty() && std::getenv("SLUICE_KEEP_TEST_DIRS") == nullptr) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

}  // namespace sluice
