#include "testing/zookeeper_test_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

namespace sluice {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

bool ZooKeeperServing(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  timeval tv{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  std::string answer;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && write(fd, "srvr", 4) == 4) {
    char buf[512];
    for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) answer.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return answer.find("Mode: standalone") != std::string::npos;
}

Result<std::unique_ptr<ZooKeeperTestServer>> ZooKeeperTestServer::Start(const Options& options) {
  std::unique_ptr<ZooKeeperTestServer> z(new ZooKeeperTestServer(options));
  RETURN_IF_ERROR(z->Run());
  return z;
}

Status ZooKeeperTestServer::Run() {
  std::string java = FindExecutable(options_.java, "java");
  if (java.empty()) return Status::NotFound("java not found (ZooKeeper needs a Java runtime: scripts/setup)");
  if (access(options_.zookeeper_jar.c_str(), R_OK) != 0) {
    return Status::NotFound(options_.zookeeper_jar + " not found (install the Debian package zookeeper)");
  }
  if (options_.dir.empty()) {
    ASSIGN_OR_RETURN(dir_, MakeTempDir("/tmp/sluice-zookeeper-"));
    own_dir_ = true;
  } else {
    dir_ = options_.dir;
  }
  port_ = options_.port;
  if (port_ == 0) {
    ASSIGN_OR_RETURN(std::vector<int> ports, FreeLoopbackPorts(1));
    port_ = ports[0];
  }
  std::error_code ec;
  fs::create_directories(dir_ + "/data", ec);
  if (ec) return Status::Io("creating " + dir_ + "/data: " + ec.message());
  std::string cfg = dir_ + "/zoo.cfg";
  RETURN_IF_ERROR(WriteTextFile(cfg, "tickTime=" + std::to_string(options_.tick_ms) +
                                         "\n"
                                         "initLimit=10\n"
                                         "syncLimit=5\n"
                                         "dataDir=" +
                                         dir_ +
                                         "/data\n"
                                         "clientPort=" +
                                         std::to_string(port_) +
                                         "\n"
                                         "clientPortAddress=127.0.0.1\n"
                                         "maxClientCnxns=0\n"
                                         "admin.enableServer=false\n"
                                         "4lw.commands.whitelist=ruok,srvr,stat\n"
                                         "autopurge.purgeInterval=0\n"));
  std::string classpath = options_.zookeeper_jar;
  if (access(options_.slf4j_binding_jar.c_str(), R_OK) == 0) classpath += ":" + options_.slf4j_binding_jar;
  process_.name = "zookeeper";
  process_.stdio_path = dir_ + "/zookeeper.log";
  process_.argv = {java,
                   "-Xms32m",
                   "-Xmx128m",
                   "-XX:+UseSerialGC",
                   "-XX:TieredStopAtLevel=1",  // starts faster; a test ZooKeeper does little work
                   "-Dzookeeper.admin.enableServer=false",
                   "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                   "-cp",
                   classpath,
                   "org.apache.zookeeper.server.ZooKeeperServerMain",
                   cfg};
  RETURN_IF_ERROR(process_.Start());
  auto deadline = Clock::now() + options_.start_timeout;
  while (!ZooKeeperServing(port_)) {
    if (!process_.Running()) {
      return Status::Internal("zookeeper exited at start; its log ends with:\n" + LogTail());
    }
    if (Clock::now() > deadline) {
      std::string tail = LogTail();
      process_.Stop(SIGKILL, milliseconds(0));
      return Status::TimedOut("zookeeper not serving on port " + std::to_string(port_) + "; its log ends with:\n" +
                              tail);
    }
    std::this_thread::sleep_for(milliseconds(100));
  }
  return Status::Ok();
}

void ZooKeeperTestServer::Stop(int signal, milliseconds timeout) { process_.Stop(signal, timeout); }

ZooKeeperTestServer::~ZooKeeperTestServer() {
  process_.Stop(SIGTERM, milliseconds(5'000));
  if (own_dir_ && std::getenv("SLUICE_KEEP_TEST_DIRS") == nullptr) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

}  // namespace sluice
