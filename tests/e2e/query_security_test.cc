// The read path against a running `sluice run`, tried as an attacker and as a busy user would: every probe that
// reads files, writes, attaches, installs, changes settings or smuggles a second statement is refused through
// /api/query (GET and POST), /api/export.csv, a dashboard's SQL and `sluice query` routed through the server,
// and changes nothing (rows, tables, settings, files on disk are checked after each). Results are cut at
// server.max_rows with memory bounded, and a long query delays neither ingest nor other queries and is
// interrupted at server.query_timeout.
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "harness.h"
#include "serve/read_only_sql.h"

namespace sluice::e2e {
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kToken = "e2e-query-security-token";

std::string UrlEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

struct Answer {
  int code = 0;
  std::string body;
  std::string truncated;  // X-Sluice-Truncated
  double seconds = 0;
};

class QuerySecurityTest : public ScratchDir {
 protected:
  // Starts `sluice run` with a token, one http stream, a dashboard whose charts are `chart_sqls`, and `server`
  // settings appended to the server map.
  void StartRun(const std::vector<std::string>& chart_sqls, const std::string& server_extra = "") {
    port_ = FreePort();
    std::string charts;
    for (const auto& sql : chart_sqls) {
      std::string quoted;
      for (char c : sql) quoted += c == '"' ? std::string("\\\"") : std::string(1, c);
      charts += "  - { title: probe, kind: table, sql: \"" + quoted + "\" }\n";
    }
    Write("dashboards/probes.yaml", "title: Probes\ncharts:\n" + charts);
    config_ = Write("sluice.yaml", R"(warehouse: { path: wh.duckdb }
landing: { path: landing }
server: { listen: 127.0.0.1:)" + std::to_string(port_) +
                                       ", token_env: SLUICE_E2E_QUERY_TOKEN" + server_extra + R"( }
dashboards: dashboards
streams:
  ev:
    event_time: ts
    schema: { ts: timestamp, n: int64 }
    sources:
      - { kind: http }
    batch: { max_wait: 50ms }
)");
    ::setenv("SLUICE_E2E_QUERY_TOKEN", kToken, 1);
    pid_ = StartSluice({"run", "-c", config_, "--quiet"}, Path("run.log"));
    ASSERT_TRUE(WaitHealthy(port_, 30)) << "sluice run did not come up";
  }

  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      WaitFor(pid_);
    }
    ScratchDir::TearDown();
  }

  Answer Get(const std::string& path, int timeout_s = 60) {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(timeout_s, 0);
    c.set_bearer_token_auth(kToken);
    const auto start = Clock::now();
    auto r = c.Get(path);
    Answer a;
    a.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (r) a = {r->status, r->body, r->get_header_value("X-Sluice-Truncated"), a.seconds};
    return a;
  }
  Answer PostQuery(const std::string& sql) {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(60, 0);
    c.set_bearer_token_auth(kToken);
    auto r = c.Post("/api/query?format=csv", sql, "text/plain");
    return r ? Answer{r->status, r->body, r->get_header_value("X-Sluice-Truncated"), 0} : Answer{};
  }
  Answer Ingest(const std::string& body) {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(60, 0);
    c.set_bearer_token_auth(kToken);
    const auto start = Clock::now();
    auto r = c.Post("/ingest/ev", body, "application/x-ndjson");
    Answer a;
    a.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (r) a = {r->status, r->body, "", a.seconds};
    return a;
  }
  // One value through the API as CSV ("" on error).
  std::string Scalar(const std::string& sql) {
    Answer a = Get("/api/query?format=csv&sql=" + UrlEncode(sql));
    if (a.code != 200) return "error " + std::to_string(a.code) + ": " + a.body;
    std::string v = a.body.substr(a.body.find("\r\n") + 2);
    while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
    return v;
  }
  // What an attacker would want to change, as one line.
  std::string State() {
    return Scalar("SELECT count(*) FROM raw_ev") + " rows | " +
           Scalar("SELECT string_agg(table_name, ',' ORDER BY table_name) FROM duckdb_tables()") + " | " +
           Scalar("SELECT count(*) FROM duckdb_databases()") + " databases | " +
           Scalar("SELECT string_agg(name || '=' || value, ',' ORDER BY name) FROM duckdb_settings() WHERE name IN "
                  "('threads', 'enable_external_access', 'lock_configuration', 'memory_limit')");
  }
  std::vector<std::string> FilesIn(const std::string& dir) {
    std::vector<std::string> out;
    for (auto& e : std::filesystem::recursive_directory_iterator(dir))
      if (e.path().string().find("/landing/") == std::string::npos &&
          e.path().filename().string().find(".wal") == std::string::npos &&
          e.path().string().find(".tmp") == std::string::npos)
        out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    return out;
  }

  int port_ = 0;
  pid_t pid_ = -1;
  std::string config_;
};

std::vector<std::string> Probes(const std::string& dir, const std::string& config) {
  return {
      "SELECT * FROM read_csv('/etc/passwd')",
      "SELECT * FROM read_text('/etc/hostname')",
      "SELECT * FROM read_text('" + config + "')",
      "SELECT * FROM glob('/etc/*')",
      "SELECT * FROM read_parquet('" + config + "')",
      "SELECT * FROM read_json('" + config + "')",
      "SELECT * FROM read_blob('" + config + "')",
      "SELECT * FROM '" + config + "'",
      "WITH x AS (SELECT 1) INSERT INTO raw_ev (n) SELECT * FROM x",
      "EXPLAIN ANALYZE DELETE FROM raw_ev",
      "SELECT $$'$$; CREATE TABLE t AS SELECT 1",
      "SELECT 1; DROP TABLE raw_ev",
      "SELECT 1 /* ; */ ; DELETE FROM raw_ev -- ;",
      "SELECT 1 -- \n; DELETE FROM raw_ev",
      "DELETE FROM raw_ev",
      "CREATE TABLE t AS SELECT 1",
      "ATTACH '" + dir + "/other.duckdb' AS o",
      "ATTACH ':memory:' AS m",
      "COPY raw_ev TO '" + dir + "/out.csv'",
      "COPY (SELECT 1) TO '" + dir + "/out.csv'",
      "INSTALL httpfs",
      "LOAD httpfs",
      "SET threads = 1",
      "SET memory_limit = '1MB'",
      "PRAGMA threads = 1",
      "RESET lock_configuration",
      "CALL checkpoint()",
      "SELECT * FROM force_checkpoint()",
      "EXPORT DATABASE '" + dir + "/export'",
      "BEGIN TRANSACTION",
  };
}

TEST_F(QuerySecurityTest, EveryProbeIsRefusedOnEveryRouteAndChangesNothing) {
  const std::string dir = dir_.string();
  const std::string config_path = Path("sluice.yaml");
  const auto probes = Probes(dir, config_path);
  // The same probes as dashboard charts: those that pass the config's friendly check at start (the rest are
  // refused there, with file and line) reach the engine when the chart is drawn.
  std::vector<std::string> charts;
  for (const auto& p : probes)
    if (IsReadOnlySql(p)) charts.push_back(p);
  ASSERT_GE(charts.size(), 10u);
  ASSERT_NO_FATAL_FAILURE(StartRun(charts));
  ASSERT_EQ(Ingest("{\"ts\":\"2026-11-01T10:00:00Z\",\"n\":1}\n{\"ts\":\"2026-11-01T10:00:01Z\",\"n\":2}\n").code, 200);
  // sluice's own transform loop creates its cursor table a second after a batch: let it settle first.
  for (int i = 0; i < 100 && State().find("_sluice_transform_cursor") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const std::string before = State();
  ASSERT_NE(before.find("2 rows"), std::string::npos) << before;
  ASSERT_NE(before.find("enable_external_access=false"), std::string::npos) << before;
  const auto files_before = FilesIn(dir);

  for (const auto& sql : probes) {
    SCOPED_TRACE(sql);
    Answer get = Get("/api/query?sql=" + UrlEncode(sql));
    EXPECT_EQ(get.code, 400) << get.body;
    EXPECT_NE(get.body.find("\"error\""), std::string::npos) << get.body;
    EXPECT_EQ(get.body.find("root:"), std::string::npos) << "file contents leaked: " << get.body;
    Answer post = PostQuery(sql);
    EXPECT_EQ(post.code, 400) << post.body;
    Answer exported = Get("/api/export.csv?sql=" + UrlEncode(sql));
    EXPECT_EQ(exported.code, 400) << exported.body;
    EXPECT_EQ(exported.body.find("root:"), std::string::npos);
    CommandResult cli = RunSluice({"query", "-c", config_, "--format", "csv", sql});
    EXPECT_NE(cli.exit_code, 0) << cli.output;
    EXPECT_EQ(cli.output.find("root:"), std::string::npos) << cli.output;
    EXPECT_EQ(State(), before);
    EXPECT_EQ(FilesIn(dir), files_before);
  }
  for (size_t i = 0; i < charts.size(); ++i) {
    SCOPED_TRACE(charts[i]);
    Answer chart = Get("/api/dashboards/probes/charts/" + std::to_string(i));
    EXPECT_EQ(chart.code, 200) << chart.body;  // the request worked; the chart shows its query's error
    EXPECT_NE(chart.body.find("\"error\""), std::string::npos) << chart.body;
    EXPECT_EQ(chart.body.find("root:"), std::string::npos) << chart.body;
    EXPECT_EQ(State(), before);
  }
  EXPECT_EQ(FilesIn(dir), files_before);
  // The config file was never readable, so the token in the environment's name is all it could have shown.
  std::ifstream log(Path("run.log"));
  std::stringstream text;
  text << log.rdbuf();
  EXPECT_EQ(text.str().find(kToken), std::string::npos) << "the token reached the log";
  // Refusals are counted.
  Answer metrics = Get("/metrics");
  EXPECT_NE(metrics.body.find("sluice_queries_total{route=\"/api/query\",outcome=\"refused\"}"), std::string::npos)
      << metrics.body;
  // Reading still works, through every route.
  EXPECT_EQ(Scalar("SELECT sum(n) FROM raw_ev"), "3");
  EXPECT_EQ(Get("/api/export.csv?sql=" + UrlEncode("SELECT n FROM raw_ev ORDER BY n")).body, "n\r\n1\r\n2\r\n");
}

TEST_F(QuerySecurityTest, ResultsStopAtMaxRowsAndMemoryStaysBounded) {
  ASSERT_NO_FATAL_FAILURE(StartRun({"SELECT * FROM range(100000)"}, ", max_rows: 50000"));
  Answer big = Get("/api/query?format=csv&sql=" + UrlEncode("SELECT * FROM range(100000000)"));
  ASSERT_EQ(big.code, 200) << big.body.substr(0, 200);
  EXPECT_EQ(big.truncated, "true");
  EXPECT_EQ(std::count(big.body.begin(), big.body.end(), '\n'), 50001) << "header + max_rows lines";
  Answer small = Get("/api/query?format=csv&sql=" + UrlEncode("SELECT * FROM range(10)"));
  EXPECT_EQ(small.truncated, "");
  // A chart of more rows than a chart shows says so instead of shipping them.
  Answer chart = Get("/api/dashboards/probes/charts/0");
  EXPECT_NE(chart.body.find("a chart shows at most"), std::string::npos) << chart.body.substr(0, 300);
  CommandResult cli = RunSluice({"query", "-c", config_, "--format", "csv", "SELECT * FROM range(100000000)"});
  EXPECT_EQ(cli.exit_code, 0);
  EXPECT_NE(cli.output.find("cut at 50000 rows"), std::string::npos) << cli.output.substr(cli.output.size() - 200);
  // A hundred million rows asked for three times; the process grew by what 50,000 rows take, not gigabytes.
  std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  int64_t peak_kb = 0;
  while (std::getline(status, line))
    if (line.starts_with("VmHWM:")) peak_kb = std::stoll(line.substr(6));
  EXPECT_GT(peak_kb, 0);
  EXPECT_LT(peak_kb, 600 * 1024) << "peak RSS " << peak_kb / 1024 << " MB";
  Answer metrics = Get("/metrics");  // the GET and `sluice query`, which went through the server
  EXPECT_NE(metrics.body.find("sluice_query_rows_truncated_total{route=\"/api/query\"} 2"), std::string::npos)
      << metrics.body;
}

// A query that would run for minutes: a cross join DuckDB cannot shortcut.
constexpr const char* kSlowQuery =
    "SELECT count(*) FROM range(3000000) a, range(3000000) b WHERE (a.range * 7 + b.range) % 1000003 = 1";

TEST_F(QuerySecurityTest, ALongQueryDelaysNeitherIngestNorOtherQueriesAndIsInterruptedAtTheTimeout) {
  ASSERT_NO_FATAL_FAILURE(StartRun({"SELECT 1 AS one"}, ", query_timeout: 60s"));
  const auto start = Clock::now();
  auto slow = std::async(std::launch::async, [&] { return Get("/api/query?sql=" + UrlEncode(kSlowQuery), 120); });
  std::this_thread::sleep_for(std::chrono::seconds(1));
  std::vector<double> ingest_s, query_s, health_s;
  int64_t offset = 0;
  while (slow.wait_for(std::chrono::milliseconds(1500)) != std::future_status::ready) {
    Answer i = Ingest("{\"ts\":\"2026-11-01T10:00:00Z\",\"n\":" + std::to_string(++offset) + "}\n");
    EXPECT_EQ(i.code, 200) << i.body;
    ingest_s.push_back(i.seconds);
    Answer q = Get("/api/query?format=csv&sql=" + UrlEncode("SELECT 42"));
    EXPECT_EQ(q.body, "42\r\n42\r\n");
    query_s.push_back(q.seconds);
    Answer h = Get("/healthz");
    EXPECT_EQ(h.code, 200);
    health_s.push_back(h.seconds);
  }
  Answer timed_out = slow.get();
  const double ran = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_EQ(timed_out.code, 504) << timed_out.body;
  EXPECT_NE(timed_out.body.find("timeout"), std::string::npos) << timed_out.body;
  EXPECT_GE(ran, 59.0);
  EXPECT_LT(ran, 75.0) << "the timeout did not interrupt the query";
  ASSERT_GE(ingest_s.size(), 20u);
  std::sort(ingest_s.begin(), ingest_s.end());
  std::sort(query_s.begin(), query_s.end());
  std::printf("while a %.0f s query ran: %zu ingests, median %.3f s, max %.3f s; %zu queries, median %.3f s, "
              "max %.3f s\n",
              ran, ingest_s.size(), ingest_s[ingest_s.size() / 2], ingest_s.back(), query_s.size(),
              query_s[query_s.size() / 2], query_s.back());
  EXPECT_LT(ingest_s.back(), 3.0) << "an ingest waited for the query";
  EXPECT_LT(query_s.back(), 3.0) << "a query waited for another";
  EXPECT_LT(*std::max_element(health_s.begin(), health_s.end()), 3.0) << "/healthz waited for the query";
  // Everything posted while it ran is there, and the interrupted reader answers again.
  EXPECT_EQ(Scalar("SELECT count(*) FROM raw_ev"), std::to_string(offset));
  Answer metrics = Get("/metrics");
  EXPECT_NE(metrics.body.find("sluice_queries_total{route=\"/api/query\",outcome=\"timed_out\"} 1"),
            std::string::npos);
}

}  // namespace
}  // namespace sluice::e2e
