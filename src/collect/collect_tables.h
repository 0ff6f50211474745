// The warehouse tables collectors load, with their natural keys: loading deletes rows with the same key
// before inserting, so re-running a day (or fetching GitHub's overlapping 14-day traffic window again)
// changes nothing (DESIGN.md semantics 5). Release download counts and pull counts are running totals, so
// daily figures are views that difference consecutive daily snapshots.
// Thread-safety: constants.
#pragma once

#include <string>
#include <vector>

namespace sluice {

struct CollectTable {
  const char* name;
  const char* columns_sql;          // "(col TYPE, ...)" body for CREATE TABLE
  std::vector<std::string> key;     // natural key columns
};

// Every table, in creation order.
const std::vector<CollectTable>& CollectTables();
// Finds a table by name; null if unknown.
const CollectTable* FindCollectTable(const std::string& name);

// CREATE TABLE IF NOT EXISTS for every table, then CREATE OR REPLACE VIEW for the daily deltas
// (gh_stars_daily, gh_release_downloads_daily, dockerhub_pulls_daily). DuckDB SQL.
std::string CollectTablesSql();

}  // namespace sluice
