// Tables sluice keeps by natural key rather than by stream: the collectors' daily snapshots (DESIGN.md
// semantics 5). A row replaces the row with the same key, so re-running a day (or fetching GitHub's
// overlapping 14-day traffic window again) changes nothing. Running totals become daily figures through
// DeltaViews, which the engine spells in its own SQL.
// Values; thread-safe to share.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/schema.h"

namespace sluice {

struct KeyedTable {
  std::string name;
  std::vector<Field> columns;    // in table order
  std::vector<std::string> key;  // natural key columns; NULL matches NULL
};

// Rows for one table: JSON objects by column name. Absent columns are NULL; timestamps and dates are text
// ("2026-11-01 10:00:00", "2026-11-01"); nested values are JSON arrays and objects.
struct KeyedRows {
  KeyedTable table;
  std::vector<nlohmann::json> rows;
};

// A view of daily figures from snapshots of running totals: within each `partition_by` group, ordered by
// `order_by`, each row's `value` minus the previous row's, as `delta` (NULL on a group's first row). With
// `restart_on`, a row whose `restart_on` differs from the previous row's (both non-NULL) starts a new counter:
// its delta is its whole value. A release asset deleted and uploaded again under the same name gets a new id
// and a download count that restarts from zero; its downloads since are the new count, not a negative
// difference. A NULL `restart_on` (rows collected before the id was) continues the counter.
struct DeltaView {
  std::string name;
  std::string table;
  std::vector<std::string> columns;  // the table's columns kept
  std::string unnest;                // optional: a list-of-struct column whose elements become rows
  std::vector<std::pair<std::string, std::string>> unnest_fields;  // (struct field, output name) kept
  std::vector<std::string> partition_by;                           // output names
  std::string order_by;                                            // output name
  std::string value;                                               // output name
  std::string delta;                                               // output name of the difference
  std::string restart_on = {};                                     // optional output name (see above)
};

}  // namespace sluice
