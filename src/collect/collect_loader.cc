#include "collect/collect_loader.h"

#include "collect/collect_json.h"
#include "collect/collect_tables.h"

namespace sluice {

using nlohmann::json;

Result<std::string> LandCollectorOutput(const std::string& landing_root, const std::string& collector,
                                        const std::string& run_id, TimePoint at, const CollectorOutput& out) {
  LocalObjectStore store(landing_root);
  return LandCollectorOutput(store, collector, run_id, at, out);
}

Result<std::string> LandCollectorOutput(ObjectStore& landing, const std::string& collector,
                                        const std::string& run_id, TimePoint at, const CollectorOutput& out) {
  json landed = json::array();
  for (const LandedResponse& r : out.responses) {
    json body = json::parse(r.body, nullptr, false);
    landed.push_back({{"url", RedactUrl(r.url)},
                      {"status", r.status},
                      {"fetched_at", SqlTimestamp(r.fetched_at)},
                      {"from_cache", r.from_cache},
                      {"body", body.is_discarded() ? json(r.body) : body}});
  }
  std::string file = run_id;
  for (char& c : file) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
  }
  const std::string text = landed.dump();
  ASSIGN_OR_RETURN(std::string stem, PutVersioned(landing, "collect/" + collector + "/dt=" + SqlDate(at) + "/" + file,
                                                  {{".json", text}}));
  return landing.Locator(stem + ".json");
}

Result<int64_t> LoadCollectorOutput(Warehouse& wh, const CollectorOutput& out) {
  std::vector<KeyedTable> tables = CollectTables();
  for (const auto& [name, table] : out.tables) tables.push_back(table);
  RETURN_IF_ERROR(wh.PrepareKeyedTables(tables, CollectViews()).WithContext("creating collect tables"));
  std::vector<KeyedRows> batches;
  for (const auto& [table_name, rows] : out.rows) {
    const KeyedTable* table = FindCollectTable(table_name);
    auto defined = out.tables.find(table_name);
    if (!table && defined == out.tables.end()) return Status::Internal("no collect table named " + table_name);
    batches.push_back({table ? *table : defined->second, rows});
  }
  auto written = wh.UpsertRows(batches);
  if (!written.ok()) return written.status().WithContext("loading collected rows");
  return written;
}

}  // namespace sluice
