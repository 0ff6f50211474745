// DuckDbWarehouse: the collectors' tables (kept by natural key, with their daily-delta views) and their
// system tables, `_sluice_runs` and `_sluice_http_cache` (created at Open). Run and cache timestamps cross the
// SQL boundary as epoch microseconds both ways, so nothing depends on text formats.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>

#include "core/schema.h"
#include "warehouse/duckdb/duckdb_nested_columns.h"
#include "warehouse/duckdb/duckdb_warehouse.h"

namespace sluice {
namespace {

int64_t Micros(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}
TimePoint FromMicros(int64_t us) { return TimePoint(std::chrono::microseconds(us)); }
std::string Ts(int64_t us) { return "make_timestamp(" + std::to_string(us) + ")"; }
std::string Ts(TimePoint t) { return Ts(Micros(t)); }

// A SQL literal for a JSON value; nested values go in as JSON text that DuckDB casts to the column type.
std::string Literal(const nlohmann::json& v) {
  if (v.is_null()) return "NULL";
  if (v.is_boolean()) return v.get<bool>() ? "TRUE" : "FALSE";
  if (v.is_number()) return v.dump();
  if (v.is_string()) return QuoteLiteral(v.get<std::string>());
  return "CAST(" + QuoteLiteral(v.dump()) + " AS JSON)";
}

// `v` with every field `type` declares present: DuckDB's cast of JSON to a STRUCT refuses an object that
// lacks one of its keys, and rows written before a field was declared (or by a collector that leaves it out)
// lack it. Missing fields become null, inside lists too.
nlohmann::json WithDeclaredFields(const FieldType& type, nlohmann::json v) {
  if (type.kind == TypeKind::kList && v.is_array()) {
    for (auto& e : v) e = WithDeclaredFields(*type.element, std::move(e));
  } else if (type.kind == TypeKind::kStruct && v.is_object()) {
    for (const Field& f : type.fields) v[f.name] = WithDeclaredFields(f.type, v.contains(f.name) ? v[f.name] : nullptr);
  }
  return v;
}

std::string DeltaViewSql(const DeltaView& v) {
  std::string kept, cols, partition;
  for (const auto& c : v.columns) kept += (kept.empty() ? "" : ", ") + QuoteIdent(c);
  cols = kept;
  for (const auto& [field, name] : v.unnest_fields)
    cols += (cols.empty() ? "" : ", ") + QuoteIdent(field) + (field == name ? "" : " AS " + QuoteIdent(name));
  for (const auto& p : v.partition_by) partition += (partition.empty() ? "" : ", ") + QuoteIdent(p);
  // unnest(recursive) turns the list's structs into rows whose fields are columns.
  std::string source = v.unnest.empty() ? QuoteIdent(v.table)
                                        : "(SELECT " + kept + ", unnest(" + QuoteIdent(v.unnest) +
                                              ", recursive := true) FROM " + QuoteIdent(v.table) + ")";
  const std::string over = " OVER (PARTITION BY " + partition + " ORDER BY " + QuoteIdent(v.order_by) + ")";
  const std::string value = QuoteIdent(v.value);
  std::string delta = value + " - lag(" + value + ")" + over;
  if (!v.restart_on.empty()) {
    const std::string id = QuoteIdent(v.restart_on), previous = "lag(" + id + ")" + over;
    delta = "CASE WHEN " + previous + " <> " + id + " THEN " + value + " ELSE " + delta + " END";
  }
  return "CREATE OR REPLACE VIEW " + QuoteIdent(v.name) + " AS SELECT *, " + delta + " AS " + QuoteIdent(v.delta) +
         " FROM (SELECT " + cols + " FROM " + source + ")";
}

}  // namespace

Status DuckDbWarehouse::PrepareKeyedTables(const std::vector<KeyedTable>& tables, const std::vector<DeltaView>& views) {
  for (const KeyedTable& t : tables) {
    std::string cols;
    for (const Field& f : t.columns) cols += (cols.empty() ? "" : ", ") + QuoteIdent(f.name) + " " + f.type.SqlType();
    RETURN_IF_ERROR(db_->Execute("CREATE TABLE IF NOT EXISTS " + QuoteIdent(t.name) + " (" + cols + ")")
                        .WithContext("creating table " + t.name));
    ASSIGN_OR_RETURN(auto existing, db_->Query("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = " +
                                               QuoteLiteral(t.name)));
    std::map<std::string, std::string> have;  // column -> DuckDB's type text
    for (const auto& row : existing.rows) have[row[0].value_or("")] = row[1].value_or("");
    for (const Field& f : t.columns) {
      auto column = have.find(f.name);
      if (column == have.end()) {
        RETURN_IF_ERROR(db_->Execute("ALTER TABLE " + QuoteIdent(t.name) + " ADD COLUMN " + QuoteIdent(f.name) + " " +
                                     f.type.SqlType()));
        continue;
      }
      if (f.type.kind != TypeKind::kStruct && f.type.kind != TypeKind::kList) continue;
      // Fields declared since inside a struct or a list of structs, added in place: old rows read them NULL.
      ASSIGN_OR_RETURN(auto missing, MissingNestedFields(f.name, column->second, f.type));
      for (const MissingNestedField& m : missing) {
        std::string path;
        for (const std::string& part : m.path) path += (path.empty() ? "" : ".") + QuoteIdent(part);
        RETURN_IF_ERROR(db_->Execute("ALTER TABLE " + QuoteIdent(t.name) + " ADD COLUMN " + path + " " + m.type.SqlType())
                            .WithContext("adding " + path + " to " + t.name));
      }
    }
  }
  for (const DeltaView& v : views)
    RETURN_IF_ERROR(db_->Execute(DeltaViewSql(v)).WithContext("creating view " + v.name));
  return Status::Ok();
}

Result<int64_t> DuckDbWarehouse::UpsertRows(const std::vector<KeyedRows>& batches) {
  int64_t written = 0;
  auto load = [&]() -> Status {
    for (const KeyedRows& batch : batches) {
      const std::string table = QuoteIdent(batch.table.name);
      for (const nlohmann::json& row : batch.rows) {
        std::string where, cols, values;
        for (const std::string& k : batch.table.key) {
          // IS NOT DISTINCT FROM: a NULL key column still matches the row it would duplicate.
          where += (where.empty() ? "" : " AND ") + QuoteIdent(k) + " IS NOT DISTINCT FROM " +
                   Literal(row.contains(k) ? row[k] : nlohmann::json());
        }
        for (const auto& [col, v] : row.items()) {
          cols += (cols.empty() ? "" : ", ") + QuoteIdent(col);
          auto declared = std::find_if(batch.table.columns.begin(), batch.table.columns.end(),
                                       [&](const Field& f) { return f.name == col; });
          values += (values.empty() ? "" : ", ") +
                    Literal(declared == batch.table.columns.end() ? v : WithDeclaredFields(declared->type, v));
        }
        RETURN_IF_ERROR(db_->Execute("DELETE FROM " + table + " WHERE " + where));
        RETURN_IF_ERROR(db_->Execute("INSERT INTO " + table + " (" + cols + ") VALUES (" + values + ")"));
        ++written;
      }
    }
    return Status::Ok();
  };
  RETURN_IF_ERROR(db_->Execute("BEGIN TRANSACTION"));
  if (Status st = load(); !st.ok()) {
    (void)db_->Execute("ROLLBACK");
    return st;
  }
  RETURN_IF_ERROR(db_->Execute("COMMIT"));
  return written;
}

Status DuckDbWarehouse::PutRun(const RunRecord& run) {
  return db_->Execute(
      "INSERT OR REPLACE INTO _sluice_runs (run_id, collector, scheduled_at, started_at, ended_at, status, \"rows\", "
      "error, notes) VALUES (" +
      QuoteLiteral(run.run_id) + ", " + QuoteLiteral(run.collector) + ", " + Ts(run.scheduled) + ", " +
      Ts(run.started) + ", " + (run.ended ? Ts(*run.ended) : "NULL") + ", " + QuoteLiteral(RunStatusName(run.status)) +
      ", " + std::to_string(run.rows) + ", " + (run.error.empty() ? "NULL" : QuoteLiteral(run.error)) + ", " +
      (run.notes.empty() ? "NULL" : "CAST(" + QuoteLiteral(run.notes) + " AS JSON)") + ")");
}

Result<std::vector<RunRecord>> DuckDbWarehouse::Runs(const std::string& collector) {
  ASSIGN_OR_RETURN(auto q, db_->Query("SELECT collector, run_id, epoch_us(scheduled_at), epoch_us(started_at), "
                                      "epoch_us(ended_at), status, \"rows\", error, notes FROM _sluice_runs" +
                                      (collector.empty() ? "" : " WHERE collector = " + QuoteLiteral(collector)) +
                                      " ORDER BY started_at, run_id"));
  std::vector<RunRecord> out;
  for (const auto& row : q.rows) {
    RunRecord r;
    r.collector = row[0].value_or("");
    r.run_id = row[1].value_or("");
    r.scheduled = FromMicros(std::stoll(row[2].value_or("0")));
    r.started = FromMicros(std::stoll(row[3].value_or("0")));
    if (row[4]) r.ended = FromMicros(std::stoll(*row[4]));
    r.status = ParseRunStatus(row[5].value_or(""));
    r.rows = row[6] ? std::stoll(*row[6]) : 0;
    r.error = row[7].value_or("");
    r.notes = row[8].value_or("");
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::optional<HttpCacheEntry>> DuckDbWarehouse::GetHttpCache(const std::string& url) {
  ASSIGN_OR_RETURN(auto q, db_->Query("SELECT etag, headers, body, epoch_us(fetched_at) FROM _sluice_http_cache "
                                      "WHERE url = " +
                                      QuoteLiteral(url)));
  if (q.rows.empty()) return std::optional<HttpCacheEntry>();
  const auto& row = q.rows[0];
  HttpCacheEntry e;
  e.url = url;
  e.etag = row[0].value_or("");
  e.body = row[2].value_or("");
  e.fetched_at_us = std::stoll(row[3].value_or("0"));
  auto headers = nlohmann::json::parse(row[1].value_or("[]"), nullptr, false);
  if (headers.is_array())
    for (const auto& h : headers)
      if (h.is_array() && h.size() == 2 && h[0].is_string() && h[1].is_string())
        e.headers.emplace_back(h[0].get<std::string>(), h[1].get<std::string>());
  return std::optional<HttpCacheEntry>(std::move(e));
}

Status DuckDbWarehouse::PutHttpCache(const HttpCacheEntry& e) {
  nlohmann::json headers = nlohmann::json::array();
  for (const auto& [name, value] : e.headers) headers.push_back({name, value});
  return db_->Execute(
      "INSERT OR REPLACE INTO _sluice_http_cache (url, etag, headers, body, body_bytes, fetched_at) VALUES (" +
      QuoteLiteral(e.url) + ", " + QuoteLiteral(e.etag) + ", " + QuoteLiteral(headers.dump()) + ", " +
      QuoteLiteral(e.body) + ", " + std::to_string(e.body.size()) + ", " + Ts(e.fetched_at_us) + ")");
}

Status DuckDbWarehouse::DropHttpCache(const std::string& url) {
  return db_->Execute("DELETE FROM _sluice_http_cache WHERE url = " + QuoteLiteral(url));
}

Status DuckDbWarehouse::ExpireHttpCache(int64_t before_us) {
  return db_->Execute("DELETE FROM _sluice_http_cache WHERE fetched_at < " + Ts(before_us));
}

}  // namespace sluice
