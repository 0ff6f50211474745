// The collectors' keyed tables on ClickHouse (the declarations of collect/collect_tables.cc), against a real
// clickhouse-server: upserts by natural key, nested assets, and the daily-delta views without window functions.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "collect/collect_tables.h"
#include "collect/collect_tables_before_issue12.h"
#include "warehouse/clickhouse/clickhouse_test_util.h"

namespace sluice {
namespace {

using nlohmann::json;

using testing::Rows;

class KeyedTablesOnClickHouse : public testing::SingleServerSuite {
 protected:
  void SetUp() override {
    ASSERT_NE(cluster_, nullptr);
    auto w = testing::OpenOn(*cluster_, 0, testing::TestDatabase());
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    w_ = std::move(*w);
    Status st = w_->PrepareKeyedTables(CollectTables(), CollectViews());
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  int64_t Upsert(const std::string& table, std::vector<json> rows) {
    auto n = w_->UpsertRows({KeyedRows{*FindCollectTable(table), std::move(rows)}});
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : -1;
  }
  static json Snapshot(const std::string& repo, const std::string& day, int64_t stars, const std::string& run) {
    return {{"day", day},
            {"repo", repo},
            {"stars", stars},
            {"forks", 1},
            {"default_branch", "master"},
            {"pushed_at", day + " 10:00:00"},
            {"collected_at", day + " 03:00:00"},
            {"run_id", run}};
  }
  static json Release(const std::string& day, int64_t a, int64_t b) {
    return {{"repo", "org/db"},
            {"day", day},
            {"release_id", 7},
            {"tag", "v1.0"},
            {"name", "One"},
            {"published_at", "2026-10-01T08:00:00Z"},
            {"prerelease", false},
            {"assets",
             json::array(
                 {{{"name", "db.tar.gz"}, {"size", 100}, {"download_count", a}, {"created_at", "2026-10-01 08:00:00"}},
                  {{"name", "db.deb"}, {"size", 50}, {"download_count", b}}})},
            {"collected_at", day + " 03:00:00"},
            {"run_id", "r-" + day}};
  }

  std::unique_ptr<ClickHouseWarehouse> w_;
};

TEST_F(KeyedTablesOnClickHouse, ReRunningTheSameRowsLeavesOneRowPerKeyWithTheNewestValues) {
  std::vector<json> day1 = {Snapshot("org/a", "2026-11-01", 10, "r1"), Snapshot("org/b", "2026-11-01", 5, "r1")};
  EXPECT_EQ(Upsert("gh_repo_snapshots", day1), 2);
  EXPECT_EQ(Upsert("gh_repo_snapshots", day1), 2);
  // A re-run of the day with a newer figure replaces the row of its key.
  EXPECT_EQ(Upsert("gh_repo_snapshots", {Snapshot("org/a", "2026-11-01", 12, "r2")}), 1);
  EXPECT_EQ(Rows(*w_,
                 "SELECT repo, toString(day), stars, run_id, toString(pushed_at) FROM gh_repo_snapshots FINAL "
                 "ORDER BY repo"),
            (std::vector<std::string>{"org/a|2026-11-01|12|r2|2026-11-01 10:00:00",
                                      "org/b|2026-11-01|5|r1|2026-11-01 10:00:00"}));
  // Absent columns are NULL; key columns are not Nullable (the sorting key), the others are.
  EXPECT_EQ(testing::Scalar(*w_, "SELECT isNull(subscribers) FROM gh_repo_snapshots FINAL WHERE repo = 'org/b'"), "1");
  EXPECT_EQ(testing::Scalar(*w_,
                            "SELECT concat(engine, ' ', sorting_key) FROM system.tables WHERE database = "
                            "currentDatabase() AND name = 'gh_repo_snapshots'"),
            "ReplacingMergeTree repo, day");
  // Preparing again (a restart) changes nothing.
  ASSERT_TRUE(w_->PrepareKeyedTables(CollectTables(), CollectViews()).ok());
  EXPECT_EQ(testing::Scalar(*w_, "SELECT count() FROM gh_repo_snapshots FINAL"), "2");
}

TEST_F(KeyedTablesOnClickHouse, DeltaViewsGiveDailyDifferencesWithNullOnEachGroupsFirstDay) {
  Upsert("gh_repo_snapshots", {Snapshot("org/a", "2026-11-03", 15, "r"), Snapshot("org/a", "2026-11-01", 10, "r"),
                               Snapshot("org/b", "2026-11-02", 4, "r")});
  Upsert("gh_repo_snapshots", {Snapshot("org/a", "2026-11-02", 11, "r"), Snapshot("org/b", "2026-11-03", 9, "r")});
  // A re-collected day changes its own delta and the next day's.
  Upsert("gh_repo_snapshots", {Snapshot("org/a", "2026-11-02", 12, "r")});
  EXPECT_EQ(Rows(*w_, "SELECT repo, toString(day), stars, new_stars FROM gh_stars_daily ORDER BY repo, day"),
            (std::vector<std::string>{"org/a|2026-11-01|10|NULL", "org/a|2026-11-02|12|2", "org/a|2026-11-03|15|3",
                                      "org/b|2026-11-02|4|NULL", "org/b|2026-11-03|9|5"}));
  // Release assets (a list of structs, Nested) unnest into one row per asset.
  Upsert("gh_releases", {Release("2026-11-01", 100, 10), Release("2026-11-02", 130, 10)});
  Upsert("gh_releases", {Release("2026-11-03", 170, 25), Release("2026-11-02", 130, 10)});
  EXPECT_EQ(
      Rows(*w_,
           "SELECT repo, toString(day), tag, asset, download_count, downloads FROM "
           "gh_release_downloads_daily ORDER BY asset, day"),
      (std::vector<std::string>{"org/db|2026-11-01|v1.0|db.deb|10|NULL", "org/db|2026-11-02|v1.0|db.deb|10|0",
                                "org/db|2026-11-03|v1.0|db.deb|25|15", "org/db|2026-11-01|v1.0|db.tar.gz|100|NULL",
                                "org/db|2026-11-02|v1.0|db.tar.gz|130|30", "org/db|2026-11-03|v1.0|db.tar.gz|170|40"}));
  EXPECT_EQ(testing::Scalar(*w_,
                            "SELECT toString(groupArray(`assets.created_at`)) FROM gh_releases FINAL WHERE day = "
                            "'2026-11-01'"),
            "[['2026-10-01 08:00:00',NULL]]");
  // Column order of the views (system.columns lists a table's in order) is the DuckDB one: kept columns, unnested
  // fields, the delta.
  EXPECT_EQ(Rows(*w_,
                 "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = "
                 "'gh_release_downloads_daily'"),
            (std::vector<std::string>{"repo", "day", "tag", "asset", "download_count", "asset_id", "downloads"}));
  EXPECT_EQ(Rows(*w_,
                 "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = "
                 "'dockerhub_pulls_daily'"),
            (std::vector<std::string>{"namespace", "repo", "day", "pull_count", "pulls"}));
}

// A Nested column gains fields with ADD COLUMN `assets.id`: 18.16 reads an old part's missing field as an array
// of the length of its siblings (NULLs), so ARRAY JOIN and the delta view keep working across the upgrade.
TEST_F(KeyedTablesOnClickHouse, ATableFromBeforeTheNewFieldsIsUpgradedInPlaceKeepingItsHistory) {
  auto old_w = testing::OpenOn(*cluster_, 0, testing::TestDatabase() + "_old");
  ASSERT_TRUE(old_w.ok()) << old_w.status().ToString();
  ClickHouseWarehouse& w = **old_w;
  const std::vector<KeyedTable> old = CollectTablesBeforeIssue12();
  ASSERT_EQ(old[5].name, "gh_releases");
  ASSERT_TRUE(w.PrepareKeyedTables(old, {}).ok());
  ASSERT_TRUE(w.UpsertRows({KeyedRows{old[0], {{{"day", "2026-11-01"}, {"repo", "org/db"}, {"stars", 10}, {"watchers", 10}}}},
                            KeyedRows{old[5], {Release("2026-11-01", 100, 10)}}})
                  .ok());

  Status st = w.PrepareKeyedTables(CollectTables(), CollectViews());
  ASSERT_TRUE(st.ok()) << st.ToString();
  json day2 = Release("2026-11-02", 130, 12);
  day2["draft"] = false;
  day2["assets"][0]["id"] = 71;
  day2["assets"][1]["id"] = 72;
  day2["assets"][0]["digest"] = "sha256:00";
  json day3 = Release("2026-11-03", 150, 5);  // db.deb deleted and uploaded again: a new id, its count restarted
  day3["assets"][0]["id"] = 71;
  day3["assets"][1]["id"] = 82;
  json snapshot = Snapshot("org/db", "2026-11-02", 12, "r2");
  snapshot["license"] = "Apache-2.0";
  snapshot["topics"] = {"graph", "database"};
  ASSERT_TRUE(w.UpsertRows({KeyedRows{*FindCollectTable("gh_releases"), {day2, day3}},
                            KeyedRows{*FindCollectTable("gh_repo_snapshots"), {snapshot}}})
                  .ok());
  EXPECT_EQ(Rows(w, "SELECT toString(day), toString(watchers), toString(license), toString(topics) FROM "
                    "gh_repo_snapshots FINAL ORDER BY day"),
            (std::vector<std::string>{"2026-11-01|10|NULL|[]", "2026-11-02|NULL|Apache-2.0|['graph','database']"}));
  EXPECT_EQ(Rows(w, "SELECT toString(day), toString(`assets.id`), toString(`assets.digest`) FROM gh_releases FINAL "
                    "ORDER BY day"),
            (std::vector<std::string>{"2026-11-01|[NULL,NULL]|[NULL,NULL]", "2026-11-02|[71,72]|['sha256:00',NULL]",
                                      "2026-11-03|[71,82]|[NULL,NULL]"}));
  // Across the upgrade (NULL id, then 72) the counter continues; at the re-upload (72, then 82) it restarts.
  EXPECT_EQ(Rows(w, "SELECT asset, toString(day), toString(asset_id), downloads FROM gh_release_downloads_daily "
                    "ORDER BY asset, day"),
            (std::vector<std::string>{"db.deb|2026-11-01|NULL|NULL", "db.deb|2026-11-02|72|2", "db.deb|2026-11-03|82|5",
                                      "db.tar.gz|2026-11-01|NULL|NULL", "db.tar.gz|2026-11-02|71|30",
                                      "db.tar.gz|2026-11-03|71|20"}));
  // Preparing again changes nothing.
  ASSERT_TRUE(w.PrepareKeyedTables(CollectTables(), CollectViews()).ok());
  EXPECT_EQ(testing::Scalar(w, "SELECT count() FROM gh_releases FINAL"), "3");
}

}  // namespace
}  // namespace sluice
