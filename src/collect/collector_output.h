// CollectorOutput: what one collector run produces, as plain data: the raw API responses to land (DESIGN.md
// semantics 5: raw first, so a table can be rebuilt) and rows per warehouse table, keyed by column name.
// The loader (collect_loader.h) lands the responses and upserts the rows by each table's natural key.
// Values; thread-safe to share once built.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/http_client.h"
#include "warehouse/keyed_table.h"

namespace sluice {

struct LandedResponse {
  std::string url;
  int status = 0;
  TimePoint fetched_at;
  bool from_cache = false;  // a 304 answered with the cached body
  std::string body;
};

struct CollectorOutput {
  std::vector<LandedResponse> responses;
  std::map<std::string, KeyedTable> tables;                 // tables defined by config, not by code
  std::map<std::string, std::vector<nlohmann::json>> rows;  // table -> rows {column: value}
  std::vector<std::string> notes;                           // what was skipped and why, for the run log

  void Land(const HttpResponse& r) { responses.push_back({r.url, r.status, r.fetched_at, r.from_cache, r.body}); }
  size_t RowCount() const {
    size_t n = 0;
    for (const auto& [table, rows_of] : rows) n += rows_of.size();
    return n;
  }
};

}  // namespace sluice
