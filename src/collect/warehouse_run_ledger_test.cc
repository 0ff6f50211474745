#include "collect/warehouse_run_ledger.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "collect/scheduler.h"
#include "warehouse/duckdb/duckdb_warehouse.h"

namespace sluice {
namespace {

TimePoint T(int64_t s) { return FromUnixSeconds(s); }

TEST(WarehouseRunLedgerTest, RecordsRunsAndAnswersTheSchedulersQuestions) {
  auto dir = std::filesystem::temp_directory_path() / ("ledger_test_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  {
    auto wh = DuckDbWarehouse::Open((dir / "wh.duckdb").string());
    ASSERT_TRUE(wh.ok());
    WarehouseRunLedger ledger(DirectWarehouseAccess(**wh));
    EXPECT_FALSE(ledger.LastRun("gh")->has_value());
    EXPECT_FALSE(ledger.LastSucceededSlot("gh")->has_value());

    RunRecord a{"gh", "gh/1", T(1000), T(1001), std::nullopt, RunStatus::kRunning, 0, ""};
    ASSERT_TRUE(ledger.RecordStart(a).ok());
    a.ended = T(1005);
    a.status = RunStatus::kSucceeded;
    a.rows = 42;
    ASSERT_TRUE(ledger.RecordEnd(a).ok());
    RunRecord b{"gh", "gh/2", T(2000), T(2001), std::nullopt, RunStatus::kRunning, 0, ""};
    ASSERT_TRUE(ledger.RecordStart(b).ok());
    b.ended = T(2002);
    b.status = RunStatus::kFailed;
    b.error = "HTTP 500 'oops'";
    ASSERT_TRUE(ledger.RecordEnd(b).ok());

    auto last = ledger.LastRun("gh");
    ASSERT_TRUE(last.ok() && last->has_value());
    EXPECT_EQ((*last)->run_id, "gh/2");
    EXPECT_EQ((*last)->status, RunStatus::kFailed);
    EXPECT_EQ((*last)->error, "HTTP 500 'oops'");
    EXPECT_EQ((*last)->scheduled, T(2000));
    EXPECT_EQ(*(*last)->ended, T(2002));
    EXPECT_EQ(**ledger.LastSucceededSlot("gh"), T(1000));
    auto runs = ledger.Runs("gh");
    ASSERT_EQ(runs->size(), 2u);
    EXPECT_EQ((*runs)[0].rows, 42);
  }
  std::filesystem::remove_all(dir);
}

TEST(WarehouseRunLedgerTest, DrivesTheSchedulerOnAFakeClock) {
  auto dir = std::filesystem::temp_directory_path() / ("ledger_sched_test_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  {
    auto wh = DuckDbWarehouse::Open((dir / "wh.duckdb").string());
    ASSERT_TRUE(wh.ok());
    WarehouseRunLedger ledger(DirectWarehouseAccess(**wh));
    FakeClock clock(T(1725148800));  // 2024-09-01 00:00 UTC
    int runs = 0;
    std::vector<ScheduledCollector> cs;
    cs.push_back({"c", *CronSchedule::Parse("@hourly"), std::chrono::seconds(60), [&](const RunContext&) -> Result<int64_t> {
                    ++runs;
                    return 5;
                  }});
    SchedulerOptions o;
    o.clock = &clock;
    Scheduler s(std::move(cs), &ledger, o);
    ASSERT_TRUE(s.RunNow("c").ok());
    ASSERT_TRUE(s.WaitIdle().ok());
    EXPECT_EQ(runs, 1);
    EXPECT_EQ((*wh)->Query("SELECT status || ':' || \"rows\" FROM _sluice_runs")->Scalar(), "succeeded:5");
  }
  std::filesystem::remove_all(dir);
}

TEST(WarehouseRunLedgerTest, AWarehouseFromBeforeNotesGainsTheColumnAndKeepsItsRuns) {
  auto dir = std::filesystem::temp_directory_path() / ("ledger_evolve_test_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "wh.duckdb").string();
  {
    auto wh = DuckDbWarehouse::Open(path);
    ASSERT_TRUE(wh.ok());
    // The table as the previous release created it: no notes column, one run in it.
    ASSERT_TRUE((*wh)->Execute("ALTER TABLE _sluice_runs DROP COLUMN notes").ok());
    ASSERT_TRUE((*wh)->Execute("INSERT INTO _sluice_runs VALUES ('gh/old', 'gh', TIMESTAMP '2024-09-01 03:00:00', "
                               "TIMESTAMP '2024-09-01 03:00:01', TIMESTAMP '2024-09-01 03:00:09', 'succeeded', 7, NULL)")
                    .ok());
  }
  auto wh = DuckDbWarehouse::Open(path);
  ASSERT_TRUE(wh.ok()) << wh.status().ToString();
  WarehouseRunLedger ledger(DirectWarehouseAccess(**wh));
  RunRecord partial{"gh", "gh/new", T(1800000000), T(1800000001), T(1800000009), RunStatus::kPartial, 3, "acme/gone: HTTP 404"};
  partial.notes = R"({"failed":[{"part":"acme/gone"}],"pages_fetched":4})";
  ASSERT_TRUE(ledger.RecordEnd(partial).ok());
  auto runs = ledger.Runs("gh");
  ASSERT_TRUE(runs.ok()) << runs.status().ToString();
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[0].run_id, "gh/old");
  EXPECT_EQ((*runs)[0].rows, 7);
  EXPECT_EQ((*runs)[0].notes, "");
  EXPECT_EQ((*runs)[1].status, RunStatus::kPartial);
  EXPECT_EQ(nlohmann::json::parse((*runs)[1].notes)["pages_fetched"], 4);
  EXPECT_EQ((*wh)->Query("SELECT notes->>'$.failed[0].part' FROM _sluice_runs WHERE status = 'partial'")->Scalar(),
            "acme/gone");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sluice
