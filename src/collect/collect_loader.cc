#include "collect/collect_loader.h"

#include <filesystem>

#include "collect/collect_json.h"
#include "collect/collect_tables.h"
#include "landing/landing_store.h"

namespace sluice {

using nlohmann::json;

Result<std::string> LandCollectorOutput(const std::string& landing_root, const std::string& collector,
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
  const std::filesystem::path dir = std::filesystem::path(landing_root) / "collect" / collector / ("dt=" + SqlDate(at));
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::Io("creating " + dir.string() + ": " + ec.message());
  const std::string path = (dir / (file + ".json")).string();
  RETURN_IF_ERROR(WriteFileAtomic(path, landed.dump()));
  return path;
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
