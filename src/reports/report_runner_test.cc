// Scheduled reports end to end inside one process: the collectors' Scheduler on a fake clock fires reports
// built by ScheduleReports over a real DuckDB warehouse (readers) and a landing folder; the files are read
// back (CSV as text, XLSX by unzipping its sheet) and the run ledger `_sluice_runs` is checked. Failures (bad
// SQL, a failing command, a webhook answering 400) are failed runs carrying their error.
#include "reports/report_runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "collect/warehouse_run_ledger.h"
#include "core/time.h"
#include "reports/xlsx_test_reader.h"
#include "warehouse/warehouse.h"

namespace sluice {
namespace {

using std::chrono::hours;
using std::chrono::seconds;
using ::testing::HasSubstr;

TimePoint At(const std::string& iso) { return TimePoint(std::chrono::microseconds(ParseIsoMicros(iso).value())); }
std::string Iso(TimePoint t) {
  return FormatIsoMicros(std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count());
}

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ReportRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sluice_reports_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "dashboards");
    std::ofstream(dir_ / "dashboards" / "ads.yaml") << R"(title: Ads
charts:
  - { title: Revenue, kind: table, sql: "SELECT ad_id, sum(revenue) AS revenue FROM ads GROUP BY ad_id ORDER BY ad_id" }
)";
  }
  void TearDown() override {
    scheduler_.reset();
    warehouse_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Loads a config with `reports`, opens the warehouse with the ads table and builds the scheduler the way
  // `sluice run` does (ScheduleReports), its clock at `start`.
  void Start(const std::string& reports, TimePoint start) {
    clock_.Set(start);
    auto config = ParseConfig(R"(warehouse: { path: wh.duckdb }
landing: { path: landing }
dashboards: dashboards
streams: {}
reports:
)" + reports,
                              "sluice.yaml", dir_.string());
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    config_ = std::make_unique<Config>(std::move(*config));
    auto w = OpenWarehouse(*config_);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    warehouse_ = std::move(*w);
    ASSERT_TRUE(warehouse_->Prepare(*config_).ok());
    ASSERT_TRUE(warehouse_
                    ->Execute("CREATE TABLE ads (day DATE, ad_id BIGINT, name VARCHAR, revenue DECIMAL(10,2), "
                              "seen TIMESTAMP);"
                              "INSERT INTO ads VALUES (DATE '2024-05-05', 1, 'Acme, Inc.', 12.50, "
                              "TIMESTAMP '2024-05-05 10:00:00'), (DATE '2024-05-05', 2, 'say \"hi\"', 3.25, "
                              "TIMESTAMP '2024-05-05 18:30:00')")
                    .ok());
    access_ = DirectWarehouseAccess(*warehouse_);
    ledger_ = std::make_unique<WarehouseRunLedger>(access_);
    auto scheduled = ScheduleReports(
        *config_, [&] { return warehouse_->OpenReaders(2); }, OpenObjectStore(*config_));
    ASSERT_TRUE(scheduled.ok()) << scheduled.status().ToString();
    SchedulerOptions options;
    options.clock = &clock_;
    options.retry_delay = seconds(60);
    scheduler_ = std::make_unique<Scheduler>(std::move(*scheduled), ledger_.get(), options);
  }

  // The world reaches `t`: one scheduler tick there, and the runs it started finished and recorded.
  void TickAt(const std::string& t) {
    clock_.Set(At(t));
    ASSERT_TRUE(scheduler_->Tick().ok());
    ASSERT_TRUE(scheduler_->WaitIdle().ok());
  }

  std::vector<RunRecord> Runs(const std::string& report) {
    auto runs = ledger_->Runs(ReportRunName(report));
    EXPECT_TRUE(runs.ok()) << runs.status().ToString();
    return runs.ok() ? *runs : std::vector<RunRecord>{};
  }

  // Every file landed under reports/<name>/, relative to landing, sorted.
  std::vector<std::string> Landed(const std::string& report) {
    std::vector<std::string> out;
    const auto root = dir_ / "landing";
    if (!std::filesystem::exists(root / "reports" / report)) return out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(root / "reports" / report))
      if (e.is_regular_file()) out.push_back(std::filesystem::relative(e.path(), root).string());
    std::sort(out.begin(), out.end());
    return out;
  }
  std::string Landing(const std::string& key) { return ReadFile(dir_ / "landing" / key); }

  std::filesystem::path dir_;
  FakeClock clock_;
  std::unique_ptr<Config> config_;
  std::unique_ptr<Warehouse> warehouse_;
  sluice::WarehouseAccess access_;
  std::unique_ptr<WarehouseRunLedger> ledger_;
  std::unique_ptr<Scheduler> scheduler_;
};

TEST_F(ReportRunnerTest, FiresOnTwoSlotsLandingCsvAndXlsxAndRecordsBothRuns) {
  // The CSV report at midnight UTC; the XLSX one at 01:00 in Berlin (23:00 UTC the day before in May), whose
  // dt= folder is the Berlin day.
  Start(R"(  daily_csv:
    schedule: "0 0 * * *"
    sql: SELECT day, ad_id, name, revenue, seen FROM ads ORDER BY ad_id
  daily_xlsx:
    schedule: "0 1 * * *"
    time_zone: Europe/Berlin
    format: xlsx
    sql: SELECT day, ad_id, name, revenue, seen FROM ads ORDER BY ad_id
)",
        At("2024-05-05T22:59:30Z"));
  TickAt("2024-05-05T22:59:50Z");
  EXPECT_TRUE(Runs("daily_xlsx").empty()) << "not due before its slot";
  TickAt("2024-05-05T23:00:10Z");  // xlsx, slot 2024-05-05T23:00Z (01:00 on the 6th in Berlin)
  TickAt("2024-05-06T00:00:10Z");  // csv, slot 2024-05-06T00:00Z
  ASSERT_TRUE(
      warehouse_->Execute("INSERT INTO ads VALUES (DATE '2024-05-06', 3, 'Zed', 100, TIMESTAMP '2024-05-06 07:15:00')")
          .ok());
  TickAt("2024-05-06T12:00:00Z");  // nothing due in between
  TickAt("2024-05-06T23:00:10Z");  // xlsx again
  TickAt("2024-05-07T00:00:10Z");  // csv again

  EXPECT_EQ(Landed("daily_csv"),
            (std::vector<std::string>{"reports/daily_csv/dt=2024-05-06/daily_csv-20240506T000000Z.csv",
                                      "reports/daily_csv/dt=2024-05-07/daily_csv-20240507T000000Z.csv"}));
  EXPECT_EQ(Landed("daily_xlsx"),
            (std::vector<std::string>{"reports/daily_xlsx/dt=2024-05-06/daily_xlsx-20240505T230000Z.xlsx",
                                      "reports/daily_xlsx/dt=2024-05-07/daily_xlsx-20240506T230000Z.xlsx"}));
  const std::string header = "day,ad_id,name,revenue,seen\r\n";
  const std::string row1 = "2024-05-05,1,\"Acme, Inc.\",12.50,2024-05-05 10:00:00\r\n";
  const std::string row2 = "2024-05-05,2,\"say \"\"hi\"\"\",3.25,2024-05-05 18:30:00\r\n";
  const std::string row3 = "2024-05-06,3,Zed,100.00,2024-05-06 07:15:00\r\n";
  EXPECT_EQ(Landing("reports/daily_csv/dt=2024-05-06/daily_csv-20240506T000000Z.csv"), header + row1 + row2);
  EXPECT_EQ(Landing("reports/daily_csv/dt=2024-05-07/daily_csv-20240507T000000Z.csv"), header + row1 + row2 + row3);

  auto sheet = testing::ReadXlsx(Landing("reports/daily_xlsx/dt=2024-05-07/daily_xlsx-20240506T230000Z.xlsx"));
  ASSERT_TRUE(sheet.ok()) << sheet.status().ToString();
  ASSERT_EQ(sheet->rows.size(), 4u) << "a header and three rows";
  std::vector<std::string> names;
  for (const auto& c : sheet->rows[0]) {
    names.push_back(c.value);
    EXPECT_EQ(c.type, "s");
    EXPECT_TRUE(sheet->style_bold.at(c.style)) << c.ref;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"day", "ad_id", "name", "revenue", "seen"}));
  EXPECT_THAT(sheet->sheet_xml,
              HasSubstr("<pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/>"));
  auto expect = [&](const std::string& ref, const std::string& type, const std::string& value) {
    const testing::XlsxCell* c = sheet->Cell(ref);
    ASSERT_NE(c, nullptr) << ref;
    EXPECT_EQ(c->type, type) << ref;
    EXPECT_EQ(c->value, value) << ref;
  };
  expect("A2", "", "45417");  // 2024-05-05 as an Excel date
  EXPECT_EQ(sheet->style_format.at(sheet->Cell("A2")->style), "yyyy-mm-dd");
  expect("B2", "", "1");
  expect("C2", "s", "Acme, Inc.");
  expect("D2", "", "12.5");
  expect("E3", "", "45417.77083333333");  // 18:30
  expect("B4", "", "3");
  expect("D4", "", "100");
  expect("C3", "s", "say \"hi\"");

  for (const std::string report : {"daily_csv", "daily_xlsx"}) {
    std::vector<RunRecord> runs = Runs(report);
    ASSERT_EQ(runs.size(), 2u) << report;
    for (const RunRecord& r : runs) {
      EXPECT_EQ(r.status, RunStatus::kSucceeded) << report << ": " << r.error;
      EXPECT_EQ(r.collector, "report:" + report);
    }
    EXPECT_EQ(runs[0].rows, 2);
    EXPECT_EQ(runs[1].rows, 3);
  }
  EXPECT_EQ(Iso(Runs("daily_xlsx")[0].scheduled), "2024-05-05T23:00:00Z");
  EXPECT_EQ(Iso(Runs("daily_xlsx")[1].scheduled), "2024-05-06T23:00:00Z");
  EXPECT_EQ(Iso(Runs("daily_csv")[1].scheduled), "2024-05-07T00:00:00Z");
}

TEST_F(ReportRunnerTest, FailingSqlIsAFailedRunWithItsErrorAndIsRetried) {
  Start(R"(  broken: { schedule: "0 0 * * *", sql: SELECT nope FROM missing_table }
)",
        At("2024-05-05T23:59:30Z"));
  TickAt("2024-05-06T00:00:10Z");
  std::vector<RunRecord> runs = Runs("broken");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, RunStatus::kFailed);
  EXPECT_THAT(runs[0].error, HasSubstr("query: "));
  EXPECT_THAT(runs[0].error, HasSubstr("missing_table"));
  EXPECT_TRUE(Landed("broken").empty());
  // The slot is retried after the retry delay, and fails the same way.
  TickAt("2024-05-06T00:00:30Z");
  EXPECT_EQ(Runs("broken").size(), 1u) << "not before the retry delay";
  TickAt("2024-05-06T00:01:20Z");
  runs = Runs("broken");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(Iso(runs[1].scheduled), "2024-05-06T00:00:00Z");
  EXPECT_EQ(runs[1].status, RunStatus::kFailed);
}

TEST_F(ReportRunnerTest, TheCommandGetsTheFileAndItsFailureFailsTheRun) {
  const std::string copy = (dir_ / "copy.csv").string();
  Start(R"(  mailed:
    schedule: "0 0 * * *"
    sql: SELECT ad_id FROM ads ORDER BY ad_id
    command: cp "$1" ')" +
            copy + R"(' && test "$SLUICE_REPORT" = mailed && test "$SLUICE_REPORT_FILE" = "$1"
  unmailed:
    schedule: "0 0 * * *"
    sql: SELECT ad_id FROM ads ORDER BY ad_id
    command: echo no mailer here >&2; exit 3
)",
        At("2024-05-05T23:59:30Z"));
  TickAt("2024-05-06T00:00:10Z");
  std::vector<RunRecord> ok = Runs("mailed");
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok[0].status, RunStatus::kSucceeded) << ok[0].error;
  ASSERT_EQ(Landed("mailed").size(), 1u);
  EXPECT_EQ(ReadFile(copy), Landing(Landed("mailed")[0]));
  EXPECT_EQ(ReadFile(copy), "ad_id\r\n1\r\n2\r\n");

  std::vector<RunRecord> failed = Runs("unmailed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].status, RunStatus::kFailed);
  EXPECT_THAT(failed[0].error, HasSubstr("command exited with status 3: no mailer here"));
  EXPECT_EQ(Landed("unmailed").size(), 1u) << "the file stays landed; the retry hands it on again";
}

TEST_F(ReportRunnerTest, ACommandPastTheTimeoutIsKilledWithWhatItStartedAndFailsTheRun) {
  const std::string pidfile = (dir_ / "sleep.pid").string();
  Start(R"(  slow:
    schedule: "0 0 * * *"
    timeout: 1s
    sql: SELECT 1 AS one
    command: sleep 30 & echo $! > ')" +
            pidfile + R"('; wait
)",
        At("2024-05-05T23:59:30Z"));
  const auto t0 = std::chrono::steady_clock::now();
  TickAt("2024-05-06T00:00:10Z");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  std::vector<RunRecord> runs = Runs("slow");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, RunStatus::kFailed);
  EXPECT_THAT(runs[0].error, HasSubstr("command timed out after 1s"));
  // The sleep the command started went with it (gone, or a zombie nobody has reaped yet).
  const std::string pid = ReadFile(pidfile);
  ASSERT_FALSE(pid.empty());
  const std::string stat = ReadFile("/proc/" + pid.substr(0, pid.find('\n')) + "/stat");
  EXPECT_TRUE(stat.empty() || stat.find(") Z ") != std::string::npos) << stat;
}

TEST_F(ReportRunnerTest, TheWebhookGetsTheFileAndARefusalFailsTheRun) {
  httplib::Server hooks;
  std::mutex mu;
  std::string body, content_type, disposition, report_header;
  hooks.Post("/ok", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu);
    body = req.body;
    content_type = req.get_header_value("Content-Type");
    disposition = req.get_header_value("Content-Disposition");
    report_header = req.get_header_value("X-Sluice-Report");
    res.status = 204;
  });
  hooks.Post("/refuse", [](const httplib::Request&, httplib::Response& res) {
    res.status = 400;
    res.set_content("unknown channel", "text/plain");
  });
  const int port = hooks.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { hooks.listen_after_bind(); });
  while (!hooks.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  Start(R"(  hooked: { schedule: "0 0 * * *", format: xlsx, sql: "SELECT ad_id FROM ads", webhook: )" + base +
            R"(/ok }
  refused: { schedule: "0 0 * * *", sql: "SELECT ad_id FROM ads", webhook: )" +
            base + R"(/refuse }
)",
        At("2024-05-05T23:59:30Z"));
  TickAt("2024-05-06T00:00:10Z");
  hooks.stop();
  serving.join();

  std::vector<RunRecord> ok = Runs("hooked");
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok[0].status, RunStatus::kSucceeded) << ok[0].error;
  ASSERT_EQ(Landed("hooked").size(), 1u);
  EXPECT_EQ(body, Landing(Landed("hooked")[0]));
  EXPECT_EQ(content_type, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
  EXPECT_EQ(disposition, "attachment; filename=\"hooked-20240506T000000Z.xlsx\"");
  EXPECT_EQ(report_header, "hooked");

  std::vector<RunRecord> refused = Runs("refused");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].status, RunStatus::kFailed);
  EXPECT_THAT(refused[0].error, HasSubstr("webhook"));
  EXPECT_THAT(refused[0].error, HasSubstr("400"));
}

TEST_F(ReportRunnerTest, AChartReportRunsTheChartsQuery) {
  Start(R"(  revenue: { schedule: "0 0 * * *", chart: ads/0 }
)",
        At("2024-05-05T23:59:30Z"));
  auto run = scheduler_->RunNow(ReportRunName("revenue"));
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  ASSERT_TRUE(scheduler_->WaitIdle().ok());
  ASSERT_EQ(Landed("revenue").size(), 1u);
  EXPECT_EQ(Landing(Landed("revenue")[0]), "ad_id,revenue\r\n1,12.50\r\n2,3.25\r\n");
  EXPECT_EQ(Landed("revenue")[0], "reports/revenue/dt=2024-05-05/revenue-20240505T235930Z.csv");
}

TEST_F(ReportRunnerTest, ARetriedSlotWithChangedRowsLandsBesideTheFirstFile) {
  // Landing never replaces a file: the second attempt of a slot, after the rows changed, lands as ~2.
  Start(R"(  daily: { schedule: "0 0 * * *", sql: SELECT count(*) AS n FROM ads }
)",
        At("2024-05-05T23:59:30Z"));
  auto scheduled = ScheduleReports(
      *config_, [&] { return warehouse_->OpenReaders(1); }, OpenObjectStore(*config_));
  ASSERT_TRUE(scheduled.ok());
  RunContext ctx{"report:daily", "r1", At("2024-05-06T00:00:00Z"), At("2024-05-06T01:00:00Z"), {}, &clock_};
  ASSERT_TRUE((*scheduled)[0].run(ctx).ok());
  ASSERT_TRUE((*scheduled)[0].run(ctx).ok());  // same rows: the same file, nothing new
  EXPECT_EQ(Landed("daily").size(), 1u);
  ASSERT_TRUE(warehouse_->Execute("DELETE FROM ads WHERE ad_id = 2").ok());
  ASSERT_TRUE((*scheduled)[0].run(ctx).ok());
  EXPECT_EQ(Landed("daily"), (std::vector<std::string>{"reports/daily/dt=2024-05-06/daily-20240506T000000Z.csv",
                                                       "reports/daily/dt=2024-05-06/daily-20240506T000000Z~2.csv"}));
  EXPECT_EQ(Landing("reports/daily/dt=2024-05-06/daily-20240506T000000Z~2.csv"), "n\r\n1\r\n");
}

TEST_F(ReportRunnerTest, AMissingChartIsAnErrorAtStart) {
  auto config = ParseConfig(
      "warehouse: { path: wh.duckdb }\ndashboards: dashboards\nstreams: {}\n"
      "reports: { r: { schedule: '@daily', chart: ads/3 } }\n",
      "sluice.yaml", dir_.string());
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  bool opened = false;
  auto scheduled = ScheduleReports(
      *config,
      [&]() -> Result<std::shared_ptr<Readers>> {
        opened = true;
        return Status::Internal("unused");
      },
      OpenObjectStore(*config));
  ASSERT_FALSE(scheduled.ok());
  EXPECT_THAT(scheduled.status().message(), HasSubstr("dashboard ads has 1 chart(s), no index 3"));
  EXPECT_FALSE(opened) << "a config error opens no reader connections";
}

}  // namespace
}  // namespace sluice
