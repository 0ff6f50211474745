#include "collect/collect_loader.h"

#include <filesystem>

#include "collect/collect_json.h"
#include "collect/collect_tables.h"
#include "landing/landing_store.h"

namespace sluice {
namespace {

using nlohmann::json;

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// A SQL literal for a JSON value; nested values go in as JSON text that DuckDB casts to the column type.
std::string Literal(const json& v) {
  if (v.is_null()) return "NULL";
  if (v.is_boolean()) return v.get<bool>() ? "TRUE" : "FALSE";
  if (v.is_number()) return v.dump();
  if (v.is_string()) return Quote(v.get<std::string>());
  return "CAST(" + Quote(v.dump()) + " AS JSON)";
}

}  // namespace

Result<std::string> LandCollectorOutput(const std::string& landing_root, const std::string& collector,
                                        const std::string& run_id, TimePoint at, const CollectorOutput& out) {
  json landed = json::array();
  for (const LandedResponse& r : out.responses) {
    json body = json::parse(r.body, nullptr, false);
    landed.push_back({{"url", RedactUrl(r.url)}, {"status", r.status}, {"fetched_at", SqlTimestamp(r.fetched_at)},
                      {"from_cache", r.from_cache}, {"body", body.is_discarded() ? json(r.body) : body}});
  }
  std::string file = run_id;
  for (char& c : file) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
  }
  const std::filesystem::path dir =
      std::filesystem::path(landing_root) / "collect" / collector / ("dt=" + SqlDate(at));
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::Io("creating " + dir.string() + ": " + ec.message());
  const std::string path = (dir / (file + ".json")).string();
  RETURN_IF_ERROR(WriteFileAtomic(path, landed.dump()));
  return path;
}

Result<int64_t> LoadCollectorOutput(Warehouse& wh, const CollectorOutput& out) {
  RETURN_IF_ERROR(wh.Execute(CollectTablesSql()).WithContext("creating collect tables"));
  for (const auto& [name, table] : out.tables) {
    RETURN_IF_ERROR(wh.Execute(table.create_sql).WithContext("creating table " + name));
  }
  RETURN_IF_ERROR(wh.Execute("BEGIN TRANSACTION"));
  int64_t written = 0;
  auto load = [&]() -> Status {
    for (const auto& [table_name, rows] : out.rows) {
      const CollectTable* table = FindCollectTable(table_name);
      auto defined = out.tables.find(table_name);
      if (!table && defined == out.tables.end()) return Status::Internal("no collect table named " + table_name);
      const std::vector<std::string>& key = table ? table->key : defined->second.key;
      for (const json& row : rows) {
        std::string where, cols, values;
        for (const std::string& k : key) {
          // IS NOT DISTINCT FROM: a NULL key column still matches the row it would duplicate.
          where += (where.empty() ? "" : " AND ") + std::string("\"") + k + "\" IS NOT DISTINCT FROM " +
                   Literal(row.contains(k) ? row[k] : json());
        }
        for (const auto& [col, v] : row.items()) {
          cols += (cols.empty() ? "" : ", ") + std::string("\"") + col + "\"";
          values += (values.empty() ? "" : ", ") + Literal(v);
        }
        RETURN_IF_ERROR(wh.Execute("DELETE FROM " + table_name + " WHERE " + where));
        RETURN_IF_ERROR(wh.Execute("INSERT INTO " + table_name + " (" + cols + ") VALUES (" + values + ")"));
        ++written;
      }
    }
    return Status::Ok();
  };
  Status st = load();
  if (!st.ok()) {
    (void)wh.Execute("ROLLBACK");
    return st.WithContext("loading collected rows");
  }
  RETURN_IF_ERROR(wh.Execute("COMMIT"));
  return written;
}

}  // namespace sluice
