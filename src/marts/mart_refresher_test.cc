// Marts against a real PostgreSQL 15 started by the test (src/testing/postgres_test_server.h) and a real
// DuckDB warehouse kept up to date by the Transformer (transform/transform_test_util.h).
#include "marts/mart_refresher.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <thread>

#include "testing/postgres_test_server.h"
#include "transform/transform_test_util.h"

namespace sluice {
namespace {

constexpr const char* kUrlEnv = "SLUICE_MART_TEST_PG";

class MartRefresherTest : public testing::TransformTest {
 protected:
  static void SetUpTestSuite() {
    auto s = PostgresTestServer::Start();
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
    ::setenv(kUrlEnv, server_->conninfo().c_str(), 1);
  }
  static void TearDownTestSuite() { server_.reset(); }

  void SetUp() override {
    ASSERT_TRUE(server_) << "no PostgreSQL";
    TransformTest::SetUp();
    // A schema per test: tests share the server.
    schema_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::transform(schema_.begin(), schema_.end(), schema_.begin(), ::tolower);
    schema_ = schema_.substr(0, 40);  // PostgreSQL names stop at 63 bytes
    pg_ = Connect();
    ASSERT_TRUE(pg_);
  }

  std::unique_ptr<PgConnection> Connect() {
    auto c = PgConnection::Connect(server_->conninfo());
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }

  std::string MartYaml(const std::string& name, const std::string& from) {
    return "  " + name + ": { from: " + from + ", postgres: { url_env: " + kUrlEnv + ", table: " + schema_ + "." +
           name + " } }\n";
  }

  std::unique_ptr<MartRefresher> MakeRefresher(const Transformer& t) {
    auto r = MartRefresher::Create(*config_, t);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(*r) : nullptr;
  }

  // Rows of `sql` on PostgreSQL as "a|b|c" lines, sorted.
  std::vector<std::string> PgRows(const std::string& sql, PgConnection* on = nullptr) {
    auto r = (on ? on : pg_.get())->Query(sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    std::vector<std::string> out;
    if (!r.ok()) return out;
    for (const auto& row : r->rows) {
      std::string line;
      for (const auto& cell : row) line += (line.empty() ? "" : "|") + cell.value_or("NULL");
      out.push_back(line);
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  std::string PgScalar(const std::string& sql) {
    auto rows = PgRows(sql);
    return rows.size() == 1 ? rows[0] : "<" + std::to_string(rows.size()) + " rows>";
  }

  // The hourly rollup and its mart, in one text form (bucket as epoch seconds).
  static constexpr const char* kHourlyColumns = "ad_id, website_id, events, start, complete, click, total_dur, "
                                                "max_dur, min_dur, uas";
  std::vector<std::string> HourlyRollup() {
    return Rows(std::string("SELECT epoch(hour)::BIGINT, ") + kHourlyColumns + " FROM tracking_hourly");
  }
  std::vector<std::string> HourlyMart() {
    return PgRows(std::string("SELECT extract(epoch FROM hour)::BIGINT, ") + kHourlyColumns + " FROM " + schema_ +
                  ".hourly");
  }
  std::string Loads(const std::string& mart) {
    return PgScalar("SELECT count(*) FROM " + schema_ + "._sluice_mart_loads WHERE mart = '" + mart + "'");
  }

  static inline std::unique_ptr<PostgresTestServer> server_;
  std::string schema_;
  std::unique_ptr<PgConnection> pg_;
};

TEST_F(MartRefresherTest, MartEqualsItsRollupAfterLoadsLateEventsAndReRuns) {
  UseConfig(std::string(testing::kStreamYaml) + testing::kRollupsYaml + "marts:\n" +
            MartYaml("hourly", "tracking_hourly") + MartYaml("daily", "tracking_daily"));
  OpenWarehouse();
  auto t = MakeTransformer();
  auto marts = MakeRefresher(*t);
  ASSERT_TRUE(t && marts);
  Load({Event("2024-05-01T10:05:00Z", 1, 7, "start", "a", 10), Event("2024-05-01T10:06:00Z", 1, 7, "click", "b", 3),
        Event("2024-05-01T11:00:00Z", 2, 7, "start", "a", 5), Event("2024-05-01T12:59:59Z", 1, 8, "complete", "c", 9),
        Event("2024-05-02T01:00:00Z", 1, 8, "start", "c", 1)},
       0);
  ASSERT_TRUE(marts->AfterTransform(*warehouse_, Transform(*t)).ok());
  EXPECT_EQ(HourlyMart(), HourlyRollup());
  EXPECT_EQ(HourlyMart().size(), 4u);
  EXPECT_EQ(PgRows("SELECT extract(epoch FROM day)::BIGINT, ad_id, events, round(avg_dur * 1000)::BIGINT FROM " +
                   schema_ + ".daily"),
            Rows("SELECT epoch(day)::BIGINT, ad_id, events, round(avg_dur * 1000)::BIGINT FROM tracking_daily"));
  EXPECT_EQ(PgScalar("SELECT data_type FROM information_schema.columns WHERE table_schema = '" + schema_ +
                     "' AND table_name = 'hourly' AND column_name = 'hour'"),
            "timestamp with time zone");
  EXPECT_EQ(Loads("hourly"), "1");

  // An untouched bucket is left alone by an incremental refresh: marked here, it keeps the mark.
  ASSERT_TRUE(pg_->Execute("UPDATE " + schema_ + ".hourly SET events = -1 WHERE hour = '2024-05-01 12:00:00+00'").ok());
  // A late event in hour 10 and a new hour 13: exactly those two buckets are replaced.
  Load({Event("2024-05-01T10:30:00Z", 1, 7, "complete", "d", 4), Event("2024-05-01T13:10:00Z", 3, 9, "start", "e", 2)},
       5);
  TransformReport report = Transform(*t);
  ASSERT_EQ(report.changed.count("tracking_hourly"), 1u);
  EXPECT_EQ(report.changed["tracking_hourly"].hours.size(), 2u);
  ASSERT_TRUE(marts->AfterTransform(*warehouse_, report).ok());
  EXPECT_EQ(PgScalar("SELECT events FROM " + schema_ + ".hourly WHERE hour = '2024-05-01 12:00:00+00'"), "-1");
  EXPECT_EQ(PgScalar("SELECT full_refresh || '/' || buckets FROM " + schema_ +
                     "._sluice_mart_loads WHERE mart = 'hourly' ORDER BY id DESC LIMIT 1"),
            "false/2");
  EXPECT_EQ(PgScalar("SELECT full_refresh || '/' || buckets FROM " + schema_ +
                     "._sluice_mart_loads WHERE mart = 'daily' ORDER BY id DESC LIMIT 1"),
            "false/1");
  // --full replaces everything: the mark is gone and the mart equals the rollup.
  auto full = marts->Refresh(*warehouse_, *marts->Find("hourly"), MartRefreshOptions{.full = true});
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  EXPECT_TRUE(full->full);
  EXPECT_EQ(HourlyMart(), HourlyRollup());
  EXPECT_EQ(HourlyMart().size(), 5u);
  EXPECT_EQ(Loads("hourly"), "2");  // the same load recorded again

  // Re-runs change nothing: the ledger says the mart is current, in this process and in a new one.
  ASSERT_TRUE(marts->AfterTransform(*warehouse_, Transform(*t)).ok());
  auto again = marts->Refresh(*warehouse_, *marts->Find("hourly"));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->up_to_date);
  auto restarted = MakeRefresher(*t);
  ASSERT_TRUE(restarted->AfterTransform(*warehouse_, TransformReport{}).ok());
  EXPECT_EQ(Loads("hourly"), "2");
  EXPECT_EQ(Loads("daily"), "2");
  EXPECT_EQ(HourlyMart(), HourlyRollup());
}

TEST_F(MartRefresherTest, ColumnAddedToTheRollupAppearsInTheMart) {
  std::string stream = testing::kStreamYaml;
  auto rollup = [&](const std::string& measures) {
    return "rollups:\n  hourly: { stream: tracking, grain: hour, dimensions: [ad_id], measures: { " + measures +
           " } }\nmarts:\n" + MartYaml("m", "hourly");
  };
  UseConfig(stream + rollup("events: count"));
  OpenWarehouse();
  Load({Event("2024-05-01T10:05:00Z", 1, 7, "start", "a", 10), Event("2024-05-01T11:05:00Z", 2, 7, "start", "a", 20)},
       0);
  {
    auto t = MakeTransformer();
    ASSERT_TRUE(MakeRefresher(*t)->AfterTransform(*warehouse_, Transform(*t)).ok());
  }
  EXPECT_EQ(PgRows("SELECT ad_id, events FROM " + schema_ + ".m"), (std::vector<std::string>{"1|1", "2|1"}));
  // Reader connection: what the table looks like before.
  UseConfig(stream + rollup("events: count, total_dur: sum(dur)"));
  OpenWarehouse();
  auto t = MakeTransformer();
  auto marts = MakeRefresher(*t);
  TransformReport report = Transform(*t);
  EXPECT_TRUE(report.changed["hourly"].rebuilt);
  ASSERT_TRUE(marts->AfterTransform(*warehouse_, report).ok());
  EXPECT_EQ(PgRows("SELECT ad_id, events, total_dur FROM " + schema_ + ".m"),
            (std::vector<std::string>{"1|1|10", "2|1|20"}));
  EXPECT_EQ(PgScalar("SELECT data_type FROM information_schema.columns WHERE table_schema = '" + schema_ +
                     "' AND table_name = 'm' AND column_name = 'total_dur'"),
            "numeric");  // DuckDB's sum of BIGINT is a HUGEINT
}

TEST_F(MartRefresherTest, ReadersNeverSeeAPartialRefresh) {
  UseConfig(std::string(testing::kStreamYaml) + testing::kRollupsYaml + "marts:\n" +
            MartYaml("hourly", "tracking_hourly"));
  OpenWarehouse();
  auto t = MakeTransformer();
  auto marts = MakeRefresher(*t);
  // 24 hours x 100 ads: 2,400 rows, so a refresh takes long enough for a reader to fall between its steps
  // if they were not one transaction.
  std::vector<std::string> events;
  for (int h = 0; h < 24; ++h)
    for (int ad = 0; ad < 100; ++ad)
      events.push_back(Event("2024-05-01T" + std::string(h < 10 ? "0" : "") + std::to_string(h) + ":10:00Z", ad, 1,
                             "start", "a", 1));
  Load(events, 0);
  ASSERT_TRUE(marts->AfterTransform(*warehouse_, Transform(*t)).ok());
  std::set<std::string> committed = {PgScalar("SELECT count(*) || '/' || sum(events) FROM " + schema_ + ".hourly")};

  std::atomic<bool> stop{false};
  std::vector<std::string> seen, torn;
  std::thread reader([&] {
    auto c = Connect();
    if (!c) return;
    while (!stop) {
      // One statement (read committed), then a repeatable-read transaction that must read the same twice.
      auto a = c->Query("SELECT count(*) || '/' || sum(events) FROM " + schema_ + ".hourly");
      if (a.ok()) seen.push_back(*a->rows[0][0]);
      if (!c->Execute("BEGIN ISOLATION LEVEL REPEATABLE READ").ok()) continue;
      auto b1 = c->Query("SELECT count(*) || '/' || sum(events) FROM " + schema_ + ".hourly");
      auto b2 = c->Query("SELECT count(*) || '/' || sum(events) FROM " + schema_ + ".hourly");
      (void)c->Execute("COMMIT");
      if (b1.ok() && b2.ok()) {
        seen.push_back(*b1->rows[0][0]);
        if (*b1->rows[0][0] != *b2->rows[0][0]) torn.push_back(*b1->rows[0][0] + " then " + *b2->rows[0][0]);
      }
    }
  });
  // Each round adds one event to every hour, then replaces the whole mart (the widest window) or its hours.
  for (int round = 0; round < 12; ++round) {
    std::vector<std::string> more;
    for (int h = 0; h < 24; ++h)
      more.push_back(Event("2024-05-01T" + std::string(h < 10 ? "0" : "") + std::to_string(h) + ":20:00Z",
                           round % 100, 1, "start", "a", 1));
    Load(more, 10'000 + round * 100);
    TransformReport report = Transform(*t);
    MartRefreshOptions o;
    o.full = round % 2 == 0;
    o.changed = report.changed["tracking_hourly"];
    auto r = marts->Refresh(*warehouse_, *marts->Find("hourly"), o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    committed.insert(PgScalar("SELECT count(*) || '/' || sum(events) FROM " + schema_ + ".hourly"));
  }
  stop = true;
  reader.join();
  EXPECT_EQ(HourlyMart(), HourlyRollup());
  ASSERT_GT(seen.size(), 20u);
  std::set<std::string> distinct(seen.begin(), seen.end());
  EXPECT_GE(distinct.size(), 2u) << "the reader saw only one state: the test proves nothing";
  for (const auto& s : seen) EXPECT_TRUE(committed.count(s)) << "a reader saw " << s << ", a state never committed";
  EXPECT_TRUE(torn.empty()) << torn.front();
}

// Fence refuses the lease once `lost` is set: the worker was paused past its lease timeout.
class LosableLeases : public WorkLeases {
 public:
  Result<bool> Acquire(const std::string&) override { return true; }
  Status Fence(const std::string& name) override {
    return lost ? Status::Stale(name + " passed to another worker") : Status::Ok();
  }
  void Release(const std::string&) override {}
  bool lost = false;
};

TEST_F(MartRefresherTest, AWorkerThatLostTheSourcesLeaseCannotCommitAndTheNextRefreshCompletes) {
  UseConfig(std::string(testing::kStreamYaml) + testing::kRollupsYaml + "marts:\n" +
            MartYaml("hourly", "tracking_hourly"));
  OpenWarehouse();
  auto t = MakeTransformer();
  auto marts = MakeRefresher(*t);
  Load({Event("2024-05-01T10:05:00Z", 1, 7, "start", "a", 10)}, 0);
  LosableLeases leases;
  ASSERT_TRUE(marts->AfterTransform(*warehouse_, Transform(*t), &leases).ok());
  auto before = HourlyMart();
  Load({Event("2024-05-01T10:06:00Z", 1, 7, "click", "a", 10)}, 1);
  leases.lost = true;
  Status st = marts->AfterTransform(*warehouse_, Transform(*t), &leases);
  EXPECT_TRUE(st.IsStale()) << st.ToString();
  EXPECT_EQ(HourlyMart(), before);
  EXPECT_EQ(Loads("hourly"), "1");
  // The owner of the lease (here, a new refresher with it) refreshes from the ledger.
  leases.lost = false;
  auto r = MakeRefresher(*t)->Refresh(*warehouse_, *marts->Find("hourly"), MartRefreshOptions{.leases = &leases});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->buckets, 1);
  EXPECT_EQ(HourlyMart(), HourlyRollup());
}

TEST_F(MartRefresherTest, AModelWithoutATimeColumnIsCopiedWholeWhenItsInputsMove) {
  WriteModel("by_ad", "SELECT ad_id, count(*) AS n, max(ts) AS last_seen FROM {{ ref('tracking') }} GROUP BY ad_id");
  UseConfig(std::string(testing::kStreamYaml) + "models: models\nmarts:\n" + MartYaml("by_ad", "by_ad"));
  OpenWarehouse();
  auto t = MakeTransformer();
  auto marts = MakeRefresher(*t);
  Load({Event("2024-05-01T10:05:00Z", 1, 7, "start", "a", 10), Event("2024-05-01T10:05:00Z", 2, 7, "click", "a", 1)},
       0);
  ASSERT_TRUE(marts->AfterTransform(*warehouse_, Transform(*t)).ok());
  Load({Event("2024-05-03T10:05:00Z", 1, 7, "click", "a", 10)}, 2);
  ASSERT_TRUE(marts->AfterTransform(*warehouse_, Transform(*t)).ok());
  EXPECT_EQ(PgRows("SELECT ad_id, n, last_seen FROM " + schema_ + ".by_ad"),
            (std::vector<std::string>{"1|2|2024-05-03 10:05:00+00", "2|1|2024-05-01 10:05:00+00"}));
  EXPECT_EQ(PgScalar("SELECT bool_and(full_refresh) || '/' || count(*) FROM " + schema_ + "._sluice_mart_loads"),
            "true/2");
}

TEST_F(MartRefresherTest, AnUnsetUrlEnvIsAnErrorThatNamesTheField) {
  UseConfig(std::string(testing::kStreamYaml) + testing::kRollupsYaml +
            "marts:\n  m: { from: tracking_hourly, postgres: { url_env: SLUICE_NO_SUCH_VAR, table: x.m } }\n");
  OpenWarehouse();
  auto t = MakeTransformer();
  auto marts = MakeRefresher(*t);
  auto r = marts->Refresh(*warehouse_, *marts->Find("m"));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalid());
  EXPECT_NE(r.status().message().find("marts.m.postgres.url_env: environment variable SLUICE_NO_SUCH_VAR is not set"),
            std::string::npos)
      << r.status().message();
}

}  // namespace
}  // namespace sluice
