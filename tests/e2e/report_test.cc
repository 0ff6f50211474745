// Scheduled reports with the real binary: `sluice report -c FILE NAME` prints the path of a file that holds
// exactly what `sluice query` returns for the report's SQL (CSV), or that SQL's rows as an XLSX sheet; the run
// is recorded in _sluice_runs; a failing report exits non-zero with its error. And `sluice run` fires a
// report on its cron schedule by itself.
#include <signal.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "harness.h"

namespace sluice::e2e {
namespace {

std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ReportTest : public ScratchDir {
 protected:
  // `sluice ARGS...`: its exit code and its stdout alone (stderr, the log, goes to `stderr_`).
  CommandResult RunStdout(const std::vector<std::string>& args) {
    std::string cmd = Quote(SLUICE_BIN);
    for (const auto& a : args) cmd += " " + Quote(a);
    cmd += " 2>" + Quote(Path("stderr.log"));
    CommandResult r;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) return r;
    std::array<char, 4096> buf;
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
    const int status = ::pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    stderr_ = ReadFile(Path("stderr.log"));
    return r;
  }

  // A config over generated tracking events, ingested once.
  std::string Ingested(const std::string& reports, const std::string& server = "") {
    const std::string config = Write("sluice.yaml", R"(warehouse: { path: wh.duckdb }
landing: { path: landing }
)" + server + R"(
streams:
  tracking:
    event_time: ts
    schema: { ts: timestamp, ad_id: int64, website_id: int64, event: string, session: string, country: string, ua: string }
    sources: [ { kind: file, path: events/a.ndjson } ]
reports:
)" + reports);
    CommandResult g = RunSluice({"gen", "--events", "3000", "--seed", "5", "--out", Path("events/a.ndjson")});
    EXPECT_EQ(g.exit_code, 0) << g.output;
    CommandResult i = RunSluice({"ingest", "-c", config, "--once", "--quiet"});
    EXPECT_EQ(i.exit_code, 0) << i.output;
    return config;
  }

  std::string stderr_;
};

constexpr const char* kSql =
    "SELECT event, count(*) AS n, min(ts) AS first FROM raw_tracking GROUP BY event ORDER BY event";

TEST_F(ReportTest, ReportPrintsThePathOfAFileHoldingTheQuerysRows) {
  const std::string config = Ingested(std::string(R"(  by_event: { schedule: "0 6 * * MON", sql: ")") + kSql + R"(" }
  by_event_xlsx: { schedule: "0 6 * * MON", format: xlsx, sql: ")" +
                                      kSql + R"(" }
  broken: { schedule: "@daily", sql: SELECT nope FROM missing_table }
)");
  CommandResult r = RunStdout({"report", "-c", config, "by_event"});
  ASSERT_EQ(r.exit_code, 0) << r.output << stderr_;
  ASSERT_FALSE(r.output.empty());
  ASSERT_EQ(r.output.back(), '\n');
  const std::string path = r.output.substr(0, r.output.size() - 1);
  EXPECT_EQ(path.find('\n'), std::string::npos) << "only the path on stdout: " << r.output;
  const std::string landing = Path("landing") + "/reports/by_event/dt=";
  EXPECT_EQ(path.rfind(landing, 0), 0u) << path;
  EXPECT_EQ(path.substr(path.size() - 4), ".csv") << path;
  ASSERT_TRUE(std::filesystem::exists(path)) << path;

  CommandResult q = RunSluice({"query", "-c", config, "--format", "csv", kSql});
  ASSERT_EQ(q.exit_code, 0) << q.output;
  const std::string csv = ReadFile(path);
  EXPECT_EQ(csv, q.output);
  EXPECT_EQ(csv.rfind("event,n,first\r\n", 0), 0u) << csv;
  EXPECT_GE(std::count(csv.begin(), csv.end(), '\n'), 4) << "a header and a row per event kind: " << csv;
  EXPECT_EQ(QueryScalar(config,
                        "SELECT string_agg(status || ':' || \"rows\", ',') FROM _sluice_runs "
                        "WHERE collector = 'report:by_event'"),
            "succeeded:" + std::to_string(std::count(csv.begin(), csv.end(), '\n') - 1));

  // The XLSX report of the same SQL: a sheet with the header and as many rows, counts as numbers.
  r = RunStdout({"report", "-c", config, "by_event_xlsx"});
  ASSERT_EQ(r.exit_code, 0) << stderr_;
  const std::string xlsx = r.output.substr(0, r.output.size() - 1);
  ASSERT_TRUE(std::filesystem::exists(xlsx)) << xlsx;
  FILE* p = ::popen(("unzip -p " + Quote(xlsx) + " xl/worksheets/sheet1.xml").c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string sheet;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) sheet.append(buf.data(), n);
  ::pclose(p);
  size_t rows = 0;
  for (size_t at = sheet.find("<row "); at != std::string::npos; at = sheet.find("<row ", at + 1)) ++rows;
  EXPECT_EQ(rows, static_cast<size_t>(std::count(csv.begin(), csv.end(), '\n'))) << sheet;
  EXPECT_NE(sheet.find("state=\"frozen\""), std::string::npos);
  EXPECT_NE(sheet.find("<c r=\"B2\"><v>"), std::string::npos) << "counts are numbers: " << sheet;

  // A failing report: exit 1, its error on stderr and in the ledger; nothing on stdout.
  r = RunStdout({"report", "-c", config, "broken"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.output, "");
  EXPECT_NE(stderr_.find("missing_table"), std::string::npos) << stderr_;
  EXPECT_EQ(QueryScalar(config, "SELECT status FROM _sluice_runs WHERE collector = 'report:broken'"), "failed");
  EXPECT_FALSE(std::filesystem::exists(Path("landing/reports/broken")));

  r = RunStdout({"report", "-c", config, "nope"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(stderr_.find("no report named 'nope'"), std::string::npos) << stderr_;
  EXPECT_NE(stderr_.find("configured: by_event, by_event_xlsx, broken"), std::string::npos) << stderr_;
}

TEST_F(ReportTest, SluiceRunFiresAReportOnItsSchedule) {
  const int port = FreePort();
  const std::string config =
      Ingested(R"(  every_minute: { schedule: "* * * * *", sql: "SELECT count(*) AS n FROM raw_tracking" }
)",
               "server: { listen: 127.0.0.1:" + std::to_string(port) + " }");
  const pid_t pid = StartSluice({"run", "-c", config}, Path("run.log"));
  ASSERT_TRUE(WaitHealthy(port, 30)) << ReadFile(Path("run.log"));
  // The first slot is the next whole minute after start; the run is recorded at the scheduler's next tick.
  // (While `sluice run` holds the warehouse, `sluice query` goes through its API.)
  const std::string succeeded =
      "SELECT count(*) FROM _sluice_runs WHERE collector = 'report:every_minute' AND status = 'succeeded'";
  bool recorded = false;
  for (int i = 0; i < 150 && !recorded; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    recorded = QueryScalar(config, succeeded) != "0";
  }
  ::kill(pid, SIGINT);
  EXPECT_EQ(WaitFor(pid), 0) << ReadFile(Path("run.log"));
  ASSERT_TRUE(recorded) << "no report run recorded within 75 s: " << ReadFile(Path("run.log"));
  std::vector<std::string> landed;
  for (const auto& e : std::filesystem::recursive_directory_iterator(Path("landing/reports/every_minute")))
    if (e.is_regular_file()) landed.push_back(e.path().string());
  ASSERT_FALSE(landed.empty());
  for (const std::string& f : landed) {
    EXPECT_NE(f.find("/dt="), std::string::npos) << f;
    EXPECT_EQ(ReadFile(f), "n\r\n3000\r\n") << f;
  }
}

}  // namespace
}  // namespace sluice::e2e
