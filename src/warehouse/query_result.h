// QueryResult: a small, fully materialised SQL result as text cells, for the CLI, the query API and tests.
// Values; thread-safe to share once built.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace sluice {

struct QueryResult {
  std::vector<std::string> columns;
  std::vector<std::string> types;                             // warehouse type names, e.g. BIGINT
  std::vector<std::vector<std::optional<std::string>>> rows;  // nullopt is SQL NULL
  bool truncated = false;  // the query had more rows than these (a reader's max_rows)

  // The single value of a one-row, one-column result ("" when empty or NULL).
  std::string Scalar() const {
    if (rows.empty() || rows[0].empty() || !rows[0][0]) return "";
    return *rows[0][0];
  }
};

}  // namespace sluice
