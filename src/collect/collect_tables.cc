#include "collect/collect_tables.h"

namespace sluice {

const std::vector<CollectTable>& CollectTables() {
  static const std::vector<CollectTable> kTables = {
      {"gh_repo_snapshots",
       "(day DATE, repo VARCHAR, stars BIGINT, forks BIGINT, watchers BIGINT, subscribers BIGINT, "
       "open_issues BIGINT, size_kb BIGINT, default_branch VARCHAR, pushed_at TIMESTAMP, "
       "issues_total BIGINT, issues_open BIGINT, issues_closed BIGINT, prs_total BIGINT, prs_open BIGINT, "
       "prs_merged BIGINT, collected_at TIMESTAMP, run_id VARCHAR)",
       {"repo", "day"}},
      {"gh_traffic_clones", "(repo VARCHAR, day DATE, count BIGINT, uniques BIGINT, collected_at TIMESTAMP, run_id VARCHAR)",
       {"repo", "day"}},
      {"gh_traffic_views", "(repo VARCHAR, day DATE, count BIGINT, uniques BIGINT, collected_at TIMESTAMP, run_id VARCHAR)",
       {"repo", "day"}},
      // Referrers and paths are GitHub's 14-day top-10 as of the collection day.
      {"gh_referrers", "(repo VARCHAR, day DATE, referrer VARCHAR, count BIGINT, uniques BIGINT, collected_at TIMESTAMP, run_id VARCHAR)",
       {"repo", "day", "referrer"}},
      {"gh_paths", "(repo VARCHAR, day DATE, path VARCHAR, title VARCHAR, count BIGINT, uniques BIGINT, collected_at TIMESTAMP, run_id VARCHAR)",
       {"repo", "day", "path"}},
      {"gh_releases",
       "(repo VARCHAR, day DATE, release_id BIGINT, tag VARCHAR, name VARCHAR, published_at TIMESTAMP, "
       "prerelease BOOLEAN, assets STRUCT(name VARCHAR, content_type VARCHAR, size BIGINT, download_count BIGINT, "
       "created_at TIMESTAMP, updated_at TIMESTAMP, browser_download_url VARCHAR)[], collected_at TIMESTAMP, run_id VARCHAR)",
       {"repo", "day", "release_id"}},
      {"dockerhub_repo_snapshots",
       "(namespace VARCHAR, repo VARCHAR, day DATE, pull_count BIGINT, star_count BIGINT, last_updated TIMESTAMP, "
       "collected_at TIMESTAMP, run_id VARCHAR)",
       {"namespace", "repo", "day"}},
  };
  return kTables;
}

const CollectTable* FindCollectTable(const std::string& name) {
  for (const CollectTable& t : CollectTables()) {
    if (name == t.name) return &t;
  }
  return nullptr;
}

std::string CollectTablesSql() {
  std::string sql;
  for (const CollectTable& t : CollectTables()) {
    sql += "CREATE TABLE IF NOT EXISTS " + std::string(t.name) + " " + t.columns_sql + ";\n";
  }
  // Running totals become daily figures by differencing consecutive snapshots (the first day has no delta).
  sql += R"sql(
CREATE OR REPLACE VIEW gh_stars_daily AS
  SELECT repo, day, stars, stars - lag(stars) OVER (PARTITION BY repo ORDER BY day) AS new_stars
  FROM gh_repo_snapshots;
CREATE OR REPLACE VIEW gh_release_downloads_daily AS
  WITH a AS (
    SELECT repo, day, tag, unnest(assets, recursive := true) FROM gh_releases)
  SELECT repo, day, tag, name AS asset, download_count,
         download_count - lag(download_count) OVER (PARTITION BY repo, tag, name ORDER BY day) AS downloads
  FROM a;
CREATE OR REPLACE VIEW dockerhub_pulls_daily AS
  SELECT namespace, repo, day, pull_count,
         pull_count - lag(pull_count) OVER (PARTITION BY namespace, repo ORDER BY day) AS pulls
  FROM dockerhub_repo_snapshots;
)sql";
  return sql;
}

}  // namespace sluice
