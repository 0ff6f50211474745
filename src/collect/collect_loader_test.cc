#include "collect/collect_loader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "collect/collect_json.h"
#include "collect/collect_tables.h"
#include "collect/collect_tables_before_issue12.h"
#include "core/time.h"
#include "warehouse/duckdb/duckdb_warehouse.h"

namespace sluice {
namespace {

using nlohmann::json;

TimePoint At(const char* iso) { return TimePoint(std::chrono::microseconds(ParseIsoMicros(iso).value())); }

CollectorOutput Day(const char* day, int64_t stars, int64_t downloads, int64_t pulls) {
  CollectorOutput out;
  out.rows["gh_repo_snapshots"].push_back({{"day", day}, {"repo", "acme/nebula"}, {"stars", stars}, {"run_id", "r"}});
  out.rows["gh_traffic_clones"].push_back({{"repo", "acme/nebula"}, {"day", "2024-09-01"}, {"count", 35}, {"uniques", 12}});
  out.rows["gh_releases"].push_back(
      {{"repo", "acme/nebula"}, {"day", day}, {"release_id", 501}, {"tag", "v3.8.0"}, {"prerelease", false},
       {"assets", json::array({{{"name", "a.deb"}, {"content_type", "application/x-deb"}, {"size", 10},
                                {"download_count", downloads}, {"created_at", "2024-05-10 09:32:00"},
                                {"updated_at", "2024-05-10 09:33:00"}, {"browser_download_url", "https://x/a.deb"}}})}});
  out.rows["dockerhub_repo_snapshots"].push_back({{"namespace", "vesoft"}, {"repo", "nebula-graphd"}, {"day", day}, {"pull_count", pulls}});
  out.responses.push_back({"https://api.github.com/repos/acme/nebula?access_token=s3cret", 200, At("2024-09-02T03:00:00Z"), false, R"({"stargazers_count":1})"});
  return out;
}

class CollectLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("collect_loader_test_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto wh = DuckDbWarehouse::Open((dir_ / "wh.duckdb").string());
    ASSERT_TRUE(wh.ok()) << wh.status().ToString();
    wh_ = std::move(*wh);
  }
  void TearDown() override {
    wh_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::string Q(const std::string& sql) {
    auto r = wh_->Query(sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    return r.ok() ? r->Scalar() : "";
  }
  std::filesystem::path dir_;
  std::unique_ptr<DuckDbWarehouse> wh_;
};

TEST_F(CollectLoaderTest, RerunningADayChangesNothingAndDailyViewsDifference) {
  auto first = LoadCollectorOutput(*wh_, Day("2024-09-01", 1000, 100, 5000));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto again = LoadCollectorOutput(*wh_, Day("2024-09-01", 1000, 100, 5000));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, 4);
  EXPECT_EQ(Q("SELECT count(*) FROM gh_repo_snapshots"), "1");
  EXPECT_EQ(Q("SELECT count(*) FROM gh_traffic_clones"), "1");
  EXPECT_EQ(Q("SELECT count(*) FROM gh_releases"), "1");

  ASSERT_TRUE(LoadCollectorOutput(*wh_, Day("2024-09-02", 1012, 130, 5600)).ok());
  EXPECT_EQ(Q("SELECT new_stars FROM gh_stars_daily WHERE day = DATE '2024-09-02'"), "12");
  EXPECT_EQ(Q("SELECT downloads FROM gh_release_downloads_daily WHERE day = DATE '2024-09-02' AND asset = 'a.deb'"), "30");
  EXPECT_EQ(Q("SELECT pulls FROM dockerhub_pulls_daily WHERE day = DATE '2024-09-02'"), "600");
  EXPECT_EQ(Q("SELECT assets[1].browser_download_url FROM gh_releases LIMIT 1"), "https://x/a.deb");
  EXPECT_EQ(Q("SELECT count(*) FROM gh_traffic_clones"), "1") << "the overlapping traffic day is upserted";
}

TEST_F(CollectLoaderTest, AWarehouseFromBeforeTheNewFieldsIsUpgradedInPlaceKeepingItsHistory) {
  ASSERT_TRUE(wh_->PrepareKeyedTables(CollectTablesBeforeIssue12(), {}).ok());
  auto old_row = [](const KeyedTable& t, json row) { return KeyedRows{t, {std::move(row)}}; };
  const std::vector<KeyedTable> old = CollectTablesBeforeIssue12();
  ASSERT_EQ(old[5].name, "gh_releases");
  ASSERT_TRUE(wh_->UpsertRows({old_row(old[0], {{"day", "2024-09-01"}, {"repo", "acme/nebula"}, {"stars", 1000},
                                                {"watchers", 1000}, {"subscribers", 90}}),
                               old_row(old[5], {{"repo", "acme/nebula"}, {"day", "2024-09-01"}, {"release_id", 501},
                                                {"tag", "v3.8.0"}, {"assets", json::array({{{"name", "a.deb"},
                                                                                             {"download_count", 100}}})}})})
                  .ok());

  // The next day, collected by this version: columns and nested fields are added, nothing is dropped.
  CollectorOutput day2 = Day("2024-09-02", 1012, 130, 5600);
  day2.rows["gh_repo_snapshots"][0]["subscribers"] = 95;
  day2.rows["gh_repo_snapshots"][0]["topics"] = {"graph", "database"};
  day2.rows["gh_repo_snapshots"][0]["license"] = "Apache-2.0";
  day2.rows["gh_releases"][0]["draft"] = false;
  day2.rows["gh_releases"][0]["assets"][0]["id"] = 9002;
  day2.rows["gh_releases"][0]["assets"][0]["digest"] = "sha256:00";
  auto loaded = LoadCollectorOutput(*wh_, day2);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(Q("SELECT string_agg(day || ':' || coalesce(watchers::VARCHAR, 'NULL') || ':' || subscribers || ':' || "
              "coalesce(license, 'NULL') || ':' || coalesce(topics::VARCHAR, 'NULL'), ',' ORDER BY day) FROM gh_repo_snapshots"),
            "2024-09-01:1000:90:NULL:NULL,2024-09-02:NULL:95:Apache-2.0:[graph, database]");
  EXPECT_EQ(Q("SELECT string_agg(day || ':' || coalesce(assets[1].id::VARCHAR, 'NULL') || ':' || "
              "coalesce(assets[1].digest, 'NULL'), ',' ORDER BY day) FROM gh_releases"),
            "2024-09-01:NULL:NULL,2024-09-02:9002:sha256:00");
  // The day after the upgrade differences against the day before it (a NULL id continues the counter).
  EXPECT_EQ(Q("SELECT downloads FROM gh_release_downloads_daily WHERE day = DATE '2024-09-02'"), "30");
  // Preparing again (every run does) adds nothing more.
  ASSERT_TRUE(LoadCollectorOutput(*wh_, day2).ok());
  EXPECT_EQ(Q("SELECT count(*) FROM duckdb_columns() WHERE table_name = 'gh_repo_snapshots'"),
            std::to_string(CollectTables()[0].columns.size() + 1));

  // An asset deleted and uploaded again under its name: a new id, its count restarted. Its downloads count.
  CollectorOutput day3 = Day("2024-09-03", 1020, 25, 5700);
  day3.rows["gh_releases"][0]["assets"][0]["id"] = 9012;
  ASSERT_TRUE(LoadCollectorOutput(*wh_, day3).ok());
  EXPECT_EQ(Q("SELECT string_agg(day || ':' || asset_id || ':' || downloads, ',' ORDER BY day) FROM "
              "gh_release_downloads_daily WHERE day > DATE '2024-09-01'"),
            "2024-09-02:9002:30,2024-09-03:9012:25");
}

TEST_F(CollectLoaderTest, LandsRawResponsesUnderCollectorAndDay) {
  auto path = LandCollectorOutput((dir_ / "landing").string(), "github", "github/2024-09-02T03:00:00Z/1",
                                  At("2024-09-02T03:00:00Z"), Day("2024-09-02", 1, 1, 1));
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_EQ(*path, (dir_ / "landing/collect/github/dt=2024-09-02/github_2024-09-02T03_00_00Z_1.json").string());
  std::ifstream in(*path);
  json landed = json::parse(in);
  ASSERT_EQ(landed.size(), 1u);
  EXPECT_EQ(landed[0]["url"], "https://api.github.com/repos/acme/nebula?access_token=<redacted>");
  EXPECT_EQ(landed[0]["status"], 200);
  EXPECT_EQ(landed[0]["fetched_at"], "2024-09-02 03:00:00");
  EXPECT_EQ(landed[0]["body"]["stargazers_count"], 1);
}

}  // namespace
}  // namespace sluice
