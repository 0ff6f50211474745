// PostgreSQL marts end to end with the real binary and a real PostgreSQL 15 started by the test: `ingest
// --once` refreshes the mart after its transform; late events and re-runs leave it equal to its rollup (a
// re-run records nothing); `kill -9` of a refresh paused before COMMIT (SLUICE_FAULT=mart-before-commit)
// leaves the old state, and `sluice mart` completes it; a measure added to the rollup becomes a column of the
// mart.
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "harness.h"
#include "marts/pg_connection.h"
#include "testing/postgres_test_server.h"

namespace sluice::e2e {
namespace {

constexpr const char* kUrlEnv = "SLUICE_E2E_MARTS_PG";

class MartsE2eTest : public ScratchDir {
 protected:
  void SetUp() override {
    ScratchDir::SetUp();
    auto s = PostgresTestServer::Start();
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
    ::setenv(kUrlEnv, server_->conninfo().c_str(), 1);
    auto c = PgConnection::Connect(server_->conninfo());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    pg_ = std::move(*c);
  }
  void TearDown() override {
    pg_.reset();
    server_.reset();
    ::unsetenv(kUrlEnv);
    ScratchDir::TearDown();
  }

  std::string PgScalar(const std::string& sql) {
    auto r = pg_->Query(sql);
    if (!r.ok()) return "<" + r.status().message() + ">";
    return r->rows.size() == 1 && r->rows[0].size() == 1 ? r->rows[0][0].value_or("NULL") : "<not one value>";
  }
  void Append(const std::string& lines) { std::ofstream(Path("events.ndjson"), std::ios::app) << lines; }
  static std::string Event(const std::string& ts, int ad, const std::string& event) {
    return "{\"ts\":\"" + ts + "\",\"ad_id\":" + std::to_string(ad) + ",\"event\":\"" + event + "\"}\n";
  }
  std::string Config(const std::string& measures) {
    return Write("sluice.yaml", R"(warehouse: { path: wh.duckdb }
landing: { path: landing }
streams:
  tracking:
    event_time: ts
    allowed_lateness: 1h
    schema: { ts: timestamp, ad_id: int64, event: string }
    sources: [ { kind: file, path: events.ndjson } ]
rollups:
  hourly:
    stream: tracking
    grain: hour
    dimensions: [ad_id]
    pivot: { column: event, values: [start, click] }
    measures: { )" + measures + R"( }
marts:
  ads: { from: hourly, postgres: { url_env: )" + kUrlEnv + R"(, table: marts.ads } }
)");
  }
  // The rollup and the mart in one text form.
  std::string Rollup(const std::string& config, const std::string& extra = "") {
    return QueryScalar(config, "SELECT string_agg(epoch(hour)::BIGINT || '/' || ad_id || '/' || events || '/' || "
                               "start || '/' || click" + extra + ", ',' ORDER BY hour, ad_id) FROM hourly");
  }
  std::string Mart(const std::string& extra = "") {
    return PgScalar("SELECT string_agg(extract(epoch FROM hour)::BIGINT || '/' || ad_id || '/' || events || '/' || "
                    "start || '/' || click" + extra + ", ',' ORDER BY hour, ad_id) FROM marts.ads");
  }
  std::string Loads() { return PgScalar("SELECT count(*) FROM marts._sluice_mart_loads WHERE mart = 'ads'"); }

  std::unique_ptr<PostgresTestServer> server_;
  std::unique_ptr<PgConnection> pg_;
};

TEST_F(MartsE2eTest, MartFollowsItsRollupSurvivesKillDuringRefreshAndGainsAddedColumns) {
  std::string config = Config("events: count");
  Append(Event("2026-11-01T10:00:00Z", 1, "start") + Event("2026-11-01T10:20:00Z", 1, "click") +
         Event("2026-11-01T11:00:00Z", 2, "start") + Event("2026-11-01T14:00:00Z", 1, "start"));
  auto r = RunSluice({"ingest", "-c", config, "--once", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string first = Rollup(config);
  EXPECT_EQ(first, "1793527200/1/2/1/1,1793530800/2/1/1/0,1793541600/1/1/1/0");
  EXPECT_EQ(Mart(), first);
  EXPECT_EQ(Loads(), "1");

  // Late events (hour 10, four hours late) and a new hour.
  Append(Event("2026-11-01T10:30:00Z", 1, "click") + Event("2026-11-01T15:00:00Z", 3, "start"));
  r = RunSluice({"ingest", "-c", config, "--once", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string second = Rollup(config);
  EXPECT_NE(second, first);
  EXPECT_EQ(Mart(), second);
  EXPECT_EQ(PgScalar("SELECT buckets FROM marts._sluice_mart_loads WHERE mart = 'ads' ORDER BY id DESC LIMIT 1"),
            "2");
  // Re-runs change nothing and record nothing.
  r = RunSluice({"ingest", "-c", config, "--once", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = RunSluice({"mart", "-c", config, "ads"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("mart ads: up to date"), std::string::npos) << r.output;
  EXPECT_EQ(Loads(), "2");
  EXPECT_EQ(Mart(), second);

  // A refresh killed before its COMMIT: readers keep seeing the old mart, before and after the kill.
  Append(Event("2026-11-01T11:10:00Z", 2, "click") + Event("2026-11-01T16:00:00Z", 4, "start"));
  ::setenv("SLUICE_FAULT", "mart-before-commit", 1);
  pid_t pid = StartSluice({"ingest", "-c", config, "--once", "--quiet"}, Path("crash.log"));
  ::unsetenv("SLUICE_FAULT");
  bool paused = false;
  for (int i = 0; i < 300 && !paused; ++i) {
    std::ifstream log(Path("crash.log"));
    std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    paused = text.find("mart ads: paused before commit") != std::string::npos;
    if (!paused) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(paused) << "the refresh never reached its commit";
  // The mart's rows of the touched hours are deleted and re-inserted in the open transaction: not visible.
  EXPECT_EQ(Mart(), second);
  ::kill(pid, SIGKILL);
  EXPECT_EQ(WaitFor(pid), 128 + SIGKILL);
  EXPECT_EQ(Mart(), second);
  EXPECT_EQ(Loads(), "2");
  // The rollup committed before the kill; the next refresh completes the mart from the ledger.
  r = RunSluice({"mart", "-c", config, "ads"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("2 bucket(s) replaced"), std::string::npos) << r.output;
  std::string third = Rollup(config);
  EXPECT_NE(third, second);
  EXPECT_EQ(Mart(), third);
  EXPECT_EQ(Loads(), "3");

  // A measure added to the rollup: the rollup is rebuilt, and the mart gains the column.
  config = Config("events: count, top_ad: max(ad_id)");
  r = RunSluice({"ingest", "-c", config, "--once", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(PgScalar("SELECT data_type FROM information_schema.columns WHERE table_schema = 'marts' AND "
                     "table_name = 'ads' AND column_name = 'top_ad'"),
            "bigint");
  std::string with_column = Rollup(config, " || '/' || top_ad");
  EXPECT_NE(with_column.find("/4/"), std::string::npos) << with_column;
  EXPECT_EQ(Mart(" || '/' || top_ad"), with_column);
}

TEST_F(MartsE2eTest, InsideRunTheMartFollowsHttpIngestWithinSeconds) {
  int port = FreePort();
  std::string config = Write("run.yaml", ServedConfigHead(port) + R"(streams:
  tracking:
    event_time: ts
    schema: { ts: timestamp, ad_id: int64, event: string }
    sources: [ { kind: http } ]
    batch: { max_wait: 100ms }
rollups:
  hourly: { stream: tracking, grain: hour, dimensions: [ad_id], measures: { events: count } }
marts:
  ads: { from: hourly, postgres: { url_env: )" + kUrlEnv + R"(, table: public.ads } }
)");
  pid_t pid = StartSluice({"run", "-c", config, "--quiet"}, Path("run.log"));
  ASSERT_TRUE(WaitHealthy(port, 20)) << "sluice run did not come up";
  auto poll = [&](const std::string& want) {
    std::string got;
    for (int i = 0; i < 100 && got != want; ++i) {
      got = PgScalar("SELECT string_agg(ad_id || '/' || events, ',' ORDER BY hour, ad_id) FROM public.ads");
      if (got != want) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return got;
  };
  ASSERT_EQ(HttpPost(port, "/ingest/tracking", Event("2026-11-01T10:00:00Z", 1, "start") +
                                                   Event("2026-11-01T11:00:00Z", 2, "start")).first, 200);
  EXPECT_EQ(poll("1/1,2/1"), "1/1,2/1");
  ASSERT_EQ(HttpPost(port, "/ingest/tracking", Event("2026-11-01T10:30:00Z", 1, "click")).first, 200);
  EXPECT_EQ(poll("1/2,2/1"), "1/2,2/1");
  ::kill(pid, SIGTERM);
  EXPECT_EQ(WaitFor(pid), 0);
}

TEST_F(MartsE2eTest, MartCommandExplainsWhatIsWrong) {
  std::string config = Config("events: count");
  auto r = RunSluice({"mart", "-c", config, "nope"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("no mart named 'nope'"), std::string::npos) << r.output;
  // A typo in `from` fails validate, naming file, line and field.
  std::string bad = Write("bad.yaml", R"(streams:
  tracking: { event_time: ts, schema: { ts: timestamp, ad_id: int64 }, sources: [ { kind: http } ] }
rollups:
  hourly: { stream: tracking, grain: hour, dimensions: [ad_id], measures: { events: count } }
marts:
  ads: { from: hourly2, postgres: { url_env: X, table: marts.ads } }
)");
  r = RunSluice({"validate", "-c", bad});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("bad.yaml:6:16: marts.ads.from: 'hourly2' is not a rollup or model"), std::string::npos)
      << r.output;
  // Before any transform, the source has no table yet.
  r = RunSluice({"mart", "-c", config, "ads"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("its source hourly has not been transformed yet"), std::string::npos) << r.output;
  ::unsetenv(kUrlEnv);
  Append(Event("2026-11-01T10:00:00Z", 1, "start"));
  r = RunSluice({"ingest", "-c", config, "--once", "--quiet"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("environment variable SLUICE_E2E_MARTS_PG is not set"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("host="), std::string::npos) << r.output;
}

}  // namespace
}  // namespace sluice::e2e
