// The warehouse tables collectors load, with their natural keys: a row replaces the row with the same key, so
// re-running a day (or fetching GitHub's overlapping 14-day traffic window again) changes nothing (DESIGN.md
// semantics 5). Release download counts and pull counts are running totals, so daily figures are views that
// difference consecutive daily snapshots. Declared engine-neutrally (warehouse/keyed_table.h).
// Thread-safety: constants.
#pragma once

#include <string>
#include <vector>

#include "warehouse/keyed_table.h"

namespace sluice {

// Every table, in creation order.
const std::vector<KeyedTable>& CollectTables();
// Finds a table by name; null if unknown.
const KeyedTable* FindCollectTable(const std::string& name);
// The daily-delta views over them: gh_stars_daily, gh_release_downloads_daily, dockerhub_pulls_daily.
const std::vector<DeltaView>& CollectViews();

}  // namespace sluice
