#include "warehouse/clickhouse/clickhouse_test_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace sluice {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

// Free loopback ports, all held open until every one is chosen so that the same port is not handed out twice.
Result<std::vector<int>> FreePorts(int n) {
  std::vector<int> fds, ports;
  Status error;
  for (int i = 0; i < n && error.ok(); ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      error = Status::Io(std::string("choosing a free port: ") + std::strerror(errno));
    } else {
      ports.push_back(ntohs(addr.sin_port));
    }
    if (fd >= 0) fds.push_back(fd);
  }
  for (int fd : fds) close(fd);
  if (!error.ok()) return error;
  return ports;
}

std::string FindBinary(const std::string& configured, const std::string& name) {
  if (!configured.empty()) return access(configured.c_str(), X_OK) == 0 ? configured : "";
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  path += ":/usr/sbin:/usr/bin:/sbin:/bin";
  std::stringstream dirs(path);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Status::Io("writing " + path);
  return Status::Ok();
}

std::string Tail(const std::string& path, size_t bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  std::streamoff from = size > static_cast<std::streamoff>(bytes) ? size - static_cast<std::streamoff>(bytes) : 0;
  in.seekg(from);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text;
}

// ZooKeeper's four-letter "srvr" on 127.0.0.1:port; true once it serves requests. ("ruok" is not enough: it
// answers "imok" before the server takes sessions, and a clickhouse-server 18.16 whose first ZooKeeper
// connection failed crashes at its first ON CLUSTER query.)
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

std::string Xml(const std::string& tag, const std::string& value) { return "<" + tag + ">" + value + "</" + tag + ">"; }

}  // namespace

Result<std::unique_ptr<ClickHouseTestCluster>> ClickHouseTestCluster::Start(Layout layout) {
  Options options;
  options.layout = layout;
  return Start(options);
}

Result<std::unique_ptr<ClickHouseTestCluster>> ClickHouseTestCluster::Start(const Options& options) {
  std::unique_ptr<ClickHouseTestCluster> c(new ClickHouseTestCluster(options));
  c->clickhouse_server_ = FindBinary(options.clickhouse_server, "clickhouse-server");
  if (c->clickhouse_server_.empty()) {
    return Status::NotFound(
        "clickhouse-server not found (install the Debian package clickhouse-server: scripts/setup)");
  }
  char tmpl[] = "/tmp/sluice-clickhouse-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return Status::Io(std::string("mkdtemp: ") + std::strerror(errno));
  c->dir_ = tmpl;

  bool cluster = options.layout != Layout::kSingle;
  int n = cluster ? 2 : 1;
  ASSIGN_OR_RETURN(std::vector<int> ports, FreePorts(3 * n + (cluster ? 1 : 0)));
  c->servers_.resize(n);
  for (int i = 0; i < n; ++i) {
    Server& s = c->servers_[i];
    s.http_port = ports[3 * i];
    s.tcp_port = ports[3 * i + 1];
    s.interserver_port = ports[3 * i + 2];
    s.dir = c->dir_ + "/clickhouse-" + std::to_string(i + 1);
    bool two_shards = options.layout == Layout::kTwoShards;
    s.shard = two_shards ? std::to_string(i + 1) : "1";
    s.replica = "replica-" + std::to_string(i + 1);
  }
  if (cluster) {
    c->zookeeper_port_ = ports.back();
    RETURN_IF_ERROR(c->StartZooKeeper());
  }
  // Both servers start at once; each is then waited for.
  for (int i = 0; i < n; ++i) {
    RETURN_IF_ERROR(c->WriteServerConfig(i));
    RETURN_IF_ERROR(c->StartServer(i));
  }
  for (int i = 0; i < n; ++i) RETURN_IF_ERROR(c->WaitServerReady(i));
  return c;
}

ClickHouseTestCluster::~ClickHouseTestCluster() {
  // Servers first, so that they do not spend their shutdown reconnecting to a stopped ZooKeeper.
  for (Server& s : servers_) StopProcess(s.process, SIGTERM, milliseconds(10'000));
  StopProcess(zookeeper_, SIGTERM, milliseconds(5'000));
  if (!dir_.empty() && std::getenv("SLUICE_KEEP_CLICKHOUSE_DIR") == nullptr) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

std::string ClickHouseTestCluster::http_url(int i) const {
  return "http://127.0.0.1:" + std::to_string(servers_.at(i).http_port);
}

std::string ClickHouseTestCluster::zookeeper_address() const {
  return zookeeper_port_ ? "127.0.0.1:" + std::to_string(zookeeper_port_) : "";
}

Status ClickHouseTestCluster::StartZooKeeper() {
  std::string java = FindBinary(options_.java, "java");
  if (java.empty()) return Status::NotFound("java not found (ZooKeeper needs a Java runtime: scripts/setup)");
  if (access(options_.zookeeper_jar.c_str(), R_OK) != 0) {
    return Status::NotFound(options_.zookeeper_jar + " not found (install the Debian package zookeeper)");
  }
  std::string dir = dir_ + "/zookeeper";
  fs::create_directories(dir + "/data");
  std::string cfg = dir + "/zoo.cfg";
  RETURN_IF_ERROR(WriteFile(cfg,
                            "tickTime=500\n"
                            "initLimit=10\n"
                            "syncLimit=5\n"
                            "dataDir=" +
                                dir +
                                "/data\n"
                                "clientPort=" +
                                std::to_string(zookeeper_port_) +
                                "\n"
                                "clientPortAddress=127.0.0.1\n"
                                "maxClientCnxns=0\n"
                                "admin.enableServer=false\n"
                                "4lw.commands.whitelist=ruok,srvr,stat\n"
                                "autopurge.purgeInterval=0\n"));
  std::string classpath = options_.zookeeper_jar;
  if (access(options_.slf4j_binding_jar.c_str(), R_OK) == 0) classpath += ":" + options_.slf4j_binding_jar;
  zookeeper_.name = "zookeeper";
  zookeeper_.stdio_path = dir + "/zookeeper.log";
  zookeeper_.argv = {java,
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
  RETURN_IF_ERROR(StartProcess(zookeeper_));
  auto deadline = Clock::now() + options_.start_timeout;
  while (!ZooKeeperServing(zookeeper_port_)) {
    if (!ProcessRunning(zookeeper_)) {
      return Status::Internal("zookeeper exited at start; its log ends with:\n" + Tail(zookeeper_.stdio_path, 4000));
    }
    if (Clock::now() > deadline) {
      std::string tail = Tail(zookeeper_.stdio_path, 4000);
      StopProcess(zookeeper_, SIGKILL, milliseconds(0));
      return Status::TimedOut("zookeeper not serving on port " + std::to_string(zookeeper_port_) +
                              "; its log ends with:\n" + tail);
    }
    std::this_thread::sleep_for(milliseconds(100));
  }
  return Status::Ok();
}

Status ClickHouseTestCluster::WriteServerConfig(int i) {
  const Server& s = servers_[i];
  for (const char* sub : {"/data", "/tmp", "/user_files", "/format_schemas", "/log"}) {
    fs::create_directories(s.dir + sub);
  }
  std::string cfg = "<?xml version=\"1.0\"?>\n<yandex>\n";
  cfg += "  <logger>" + Xml("level", "information") + Xml("log", s.dir + "/log/server.log") +
         Xml("errorlog", s.dir + "/log/server.err.log") + Xml("size", "100M") + Xml("count", "1") +
         Xml("console", "0") + "</logger>\n";
  cfg += "  " + Xml("listen_host", "127.0.0.1") + "\n";
  cfg += "  " + Xml("http_port", std::to_string(s.http_port)) + Xml("tcp_port", std::to_string(s.tcp_port)) +
         Xml("interserver_http_port", std::to_string(s.interserver_port)) + Xml("interserver_http_host", "127.0.0.1") +
         "\n";
  cfg += "  " + Xml("path", s.dir + "/data/") + Xml("tmp_path", s.dir + "/tmp/") +
         Xml("user_files_path", s.dir + "/user_files/") + Xml("format_schema_path", s.dir + "/format_schemas/") + "\n";
  cfg += "  " + Xml("users_config", s.dir + "/users.xml") + Xml("default_profile", "default") +
         Xml("default_database", "default") + Xml("timezone", "UTC") + "\n";
  // Modest memory: small caches, few concurrent queries.
  cfg += "  " + Xml("mark_cache_size", "67108864") + Xml("uncompressed_cache_size", "67108864") +
         Xml("max_concurrent_queries", "32") + Xml("keep_alive_timeout", "3") + "\n";
  if (options_.layout != Layout::kSingle) {
    std::string cluster = "  <remote_servers><" + std::string(kClusterName) + ">";
    auto replica = [](const Server& r) {
      return "<replica>" + Xml("host", "127.0.0.1") + Xml("port", std::to_string(r.tcp_port)) + "</replica>";
    };
    if (options_.layout == Layout::kTwoShards) {
      for (const Server& r : servers_)
        cluster += "<shard>" + Xml("internal_replication", "true") + replica(r) + "</shard>";
    } else {
      cluster += "<shard>" + Xml("internal_replication", "true");
      for (const Server& r : servers_) cluster += replica(r);
      cluster += "</shard>";
    }
    cfg += cluster + "</" + std::string(kClusterName) + "></remote_servers>\n";
    cfg += "  <zookeeper><node>" + Xml("host", "127.0.0.1") + Xml("port", std::to_string(zookeeper_port_)) + "</node>" +
           Xml("session_timeout_ms", "6000") + Xml("operation_timeout_ms", "5000") + "</zookeeper>\n";
    cfg +=
        "  <macros>" + Xml("cluster", kClusterName) + Xml("shard", s.shard) + Xml("replica", s.replica) + "</macros>\n";
    // ON CLUSTER queries are queued here; each server runs the entries naming its host:tcp_port.
    cfg += "  <distributed_ddl>" + Xml("path", "/clickhouse/task_queue/ddl") + "</distributed_ddl>\n";
  }
  cfg += "</yandex>\n";
  RETURN_IF_ERROR(WriteFile(s.dir + "/config.xml", cfg));

  std::string reader;
  for (const auto& [k, v] : options_.reader_settings) reader += Xml(k, v);
  std::string networks = "<networks>" + Xml("ip", "127.0.0.1") + Xml("ip", "::1") + "</networks>";
  std::string users = "<?xml version=\"1.0\"?>\n<yandex>\n";
  users += "  <profiles>\n";
  users += "    <default>" + Xml("max_memory_usage", "1000000000") + Xml("max_threads", "2") +
           Xml("background_pool_size", "4") + Xml("background_schedule_pool_size", "4") +
           Xml("load_balancing", "in_order") + Xml("distributed_ddl_task_timeout", "30") + "</default>\n";
  users += "    <reader>" + Xml("readonly", "1") + Xml("max_memory_usage", "500000000") + Xml("max_threads", "2") +
           reader + "</reader>\n";
  users += "  </profiles>\n  <users>\n";
  users += "    <default>" + Xml("password", "") + networks + Xml("profile", "default") + Xml("quota", "default") +
           "</default>\n";
  users += "    <reader>" + Xml("password", "") + networks + Xml("profile", "reader") + Xml("quota", "default") +
           "</reader>\n";
  users += "  </users>\n";
  users += "  <quotas><default><interval>" + Xml("duration", "3600") + Xml("queries", "0") + Xml("errors", "0") +
           Xml("result_rows", "0") + Xml("read_rows", "0") + Xml("execution_time", "0") +
           "</interval></default></quotas>\n";
  users += "</yandex>\n";
  return WriteFile(s.dir + "/users.xml", users);
}

Status ClickHouseTestCluster::StartServer(int i) {
  Server& s = servers_[i];
  s.process.name = "clickhouse-" + std::to_string(i + 1);
  s.process.stdio_path = s.dir + "/log/stdout.log";
  s.process.argv = {clickhouse_server_, "--config-file=" + s.dir + "/config.xml"};
  return StartProcess(s.process);
}

Status ClickHouseTestCluster::WaitServerReady(int i) {
  Server& s = servers_[i];
  auto deadline = Clock::now() + options_.start_timeout;
  bool pinged = false;
  std::string last;
  while (true) {
    if (!ProcessRunning(s.process)) {
      return Status::Internal(s.process.name + " exited at start; its log ends with:\n" + LogTail(i));
    }
    if (!pinged) {
      httplib::Client client("127.0.0.1", s.http_port);
      client.set_connection_timeout(1, 0);
      client.set_read_timeout(2, 0);
      auto res = client.Get("/ping");
      pinged = res && res->status == 200 && res->body == "Ok.\n";
    }
    // In a cluster, ready also means the server's ZooKeeper session works (replicated tables, ON CLUSTER).
    if (pinged && options_.layout != Layout::kSingle) {
      auto zk = Query(i, "SELECT count() FROM system.zookeeper WHERE path = '/'");
      if (zk.ok()) return Status::Ok();
      last = zk.status().message();
    } else if (pinged) {
      return Status::Ok();
    }
    if (Clock::now() > deadline) {
      return Status::TimedOut(s.process.name + " (http port " + std::to_string(s.http_port) + ") not ready after " +
                              std::to_string(options_.start_timeout.count()) + " s" +
                              (last.empty() ? "" : " (" + last + ")") + "; its log ends with:\n" + LogTail(i));
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
}

Result<std::string> ClickHouseTestCluster::Query(int i, const std::string& sql, const std::string& url_params,
                                                 const std::string& data) const {
  const Server& s = servers_.at(i);
  httplib::Client client("127.0.0.1", s.http_port);
  client.set_connection_timeout(2, 0);
  client.set_read_timeout(60, 0);
  std::string body = data.empty() ? sql : sql.empty() ? data : sql + "\n" + data;
  auto res = client.Post(url_params.empty() ? "/" : "/?" + url_params, body, "text/plain");
  if (!res) {
    return Status::Retry(s.process.name + " unreachable: " + httplib::to_string(res.error()));
  }
  if (res->status != 200) return Status::Invalid(res->body);
  return res->body;
}

Status ClickHouseTestCluster::Kill(int i) {
  StopProcess(servers_.at(i).process, SIGKILL, milliseconds(0));
  return Status::Ok();
}

Status ClickHouseTestCluster::Restart(int i) {
  Server& s = servers_.at(i);
  StopProcess(s.process, SIGTERM, milliseconds(10'000));
  RETURN_IF_ERROR(StartProcess(s.process));
  return WaitServerReady(i);
}

bool ClickHouseTestCluster::Running(int i) { return ProcessRunning(servers_.at(i).process); }

std::string ClickHouseTestCluster::LogTail(int i, size_t bytes) const {
  const Server& s = servers_.at(i);
  std::string out = Tail(s.dir + "/log/server.log", bytes);
  std::string err = Tail(s.dir + "/log/server.err.log", bytes / 2);
  std::string std_out = Tail(s.process.stdio_path, bytes / 2);
  if (!err.empty()) out += "\n--- server.err.log ---\n" + err;
  if (!std_out.empty()) out += "\n--- stdout/stderr ---\n" + std_out;
  return out;
}

Status ClickHouseTestCluster::StartProcess(Process& p) {
  // Everything the child needs is built before fork: between fork and exec only async-signal-safe calls.
  std::vector<char*> argv;
  for (std::string& a : p.argv) argv.push_back(a.data());
  argv.push_back(nullptr);
  int out = open(p.stdio_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out < 0) return Status::Io("opening " + p.stdio_path + ": " + std::strerror(errno));
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    close(out);
    return Status::Io(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    // The servers die with the test process, even when it is killed.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    dup2(out, STDOUT_FILENO);
    dup2(out, STDERR_FILENO);
    int null = open("/dev/null", O_RDONLY);
    if (null >= 0) dup2(null, STDIN_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out);
  p.pid = pid;
  return Status::Ok();
}

bool ClickHouseTestCluster::ProcessRunning(Process& p) {
  if (p.pid <= 0) return false;
  int status = 0;
  pid_t r = waitpid(p.pid, &status, WNOHANG);
  if (r == p.pid || (r < 0 && errno == ECHILD)) {
    p.pid = -1;
    return false;
  }
  return true;
}

void ClickHouseTestCluster::StopProcess(Process& p, int signal, milliseconds timeout) {
  if (!ProcessRunning(p)) return;
  kill(p.pid, signal);
  auto deadline = Clock::now() + timeout;
  while (ProcessRunning(p)) {
    if (Clock::now() >= deadline) {
      kill(p.pid, SIGKILL);
      waitpid(p.pid, nullptr, 0);
      p.pid = -1;
      return;
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
}

}  // namespace sluice
