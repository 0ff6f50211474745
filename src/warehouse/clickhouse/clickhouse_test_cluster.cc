#include "warehouse/clickhouse/clickhouse_test_cluster.h"

#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

namespace sluice {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

std::string Xml(const std::string& tag, const std::string& value) { return "<" + tag + ">" + value + "</" + tag + ">"; }

}  // namespace

Result<std::unique_ptr<ClickHouseTestCluster>> ClickHouseTestCluster::Start(Layout layout) {
  Options options;
  options.layout = layout;
  return Start(options);
}

Result<std::unique_ptr<ClickHouseTestCluster>> ClickHouseTestCluster::Start(const Options& options) {
  std::unique_ptr<ClickHouseTestCluster> c(new ClickHouseTestCluster(options));
  c->clickhouse_server_ = FindExecutable(options.clickhouse_server, "clickhouse-server");
  if (c->clickhouse_server_.empty()) {
    return Status::NotFound(
        "clickhouse-server not found (install the Debian package clickhouse-server: scripts/setup)");
  }
  ASSIGN_OR_RETURN(c->dir_, MakeTempDir("/tmp/sluice-clickhouse-"));

  bool cluster = options.layout != Layout::kSingle;
  int n = cluster ? 2 : 1;
  ASSIGN_OR_RETURN(std::vector<int> ports, FreeLoopbackPorts(3 * n + (cluster ? 1 : 0)));
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
  for (Server& s : servers_) s.process.Stop(SIGTERM, milliseconds(10'000));
  if (zookeeper_) zookeeper_->Stop(SIGTERM, milliseconds(5'000));
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
  ZooKeeperTestServer::Options zk;
  zk.dir = dir_ + "/zookeeper";
  zk.port = zookeeper_port_;
  zk.java = options_.java;
  zk.zookeeper_jar = options_.zookeeper_jar;
  zk.slf4j_binding_jar = options_.slf4j_binding_jar;
  zk.start_timeout = options_.start_timeout;
  ASSIGN_OR_RETURN(zookeeper_, ZooKeeperTestServer::Start(zk));
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
  RETURN_IF_ERROR(WriteTextFile(s.dir + "/config.xml", cfg));

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
  return WriteTextFile(s.dir + "/users.xml", users);
}

Status ClickHouseTestCluster::StartServer(int i) {
  Server& s = servers_[i];
  s.process.name = "clickhouse-" + std::to_string(i + 1);
  s.process.stdio_path = s.dir + "/log/stdout.log";
  s.process.argv = {clickhouse_server_, "--config-file=" + s.dir + "/config.xml"};
  return s.process.Start();
}

Status ClickHouseTestCluster::WaitServerReady(int i) {
  Server& s = servers_[i];
  auto deadline = Clock::now() + options_.start_timeout;
  bool pinged = false;
  std::string last;
  while (true) {
    if (!s.process.Running()) {
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
  servers_.at(i).process.Stop(SIGKILL, milliseconds(0));
  return Status::Ok();
}

Status ClickHouseTestCluster::Restart(int i) {
  Server& s = servers_.at(i);
  s.process.Stop(SIGTERM, milliseconds(10'000));
  RETURN_IF_ERROR(s.process.Start());
  return WaitServerReady(i);
}

bool ClickHouseTestCluster::Running(int i) { return servers_.at(i).process.Running(); }

std::string ClickHouseTestCluster::LogTail(int i, size_t bytes) const {
  const Server& s = servers_.at(i);
  std::string out = FileTail(s.dir + "/log/server.log", bytes);
  std::string err = FileTail(s.dir + "/log/server.err.log", bytes / 2);
  std::string std_out = FileTail(s.process.stdio_path, bytes / 2);
  if (!err.empty()) out += "\n--- server.err.log ---\n" + err;
  if (!std_out.empty()) out += "\n--- stdout/stderr ---\n" + std_out;
  return out;
}

}  // namespace sluice
