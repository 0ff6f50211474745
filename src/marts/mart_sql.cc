#include "marts/mart_sql.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "core/time.h"
#include "marts/pg_connection.h"

namespace sluice {

namespace {

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

bool StartsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// ClickHouse wraps types: Nullable(T), LowCardinality(T).
std::string Unwrap(std::string t) {
  for (bool changed = true; changed;) {
    changed = false;
    for (const char* w : {"NULLABLE(", "LOWCARDINALITY("}) {
      if (StartsWith(t, w) && t.back() == ')') {
        t = t.substr(std::string(w).size(), t.size() - std::string(w).size() - 1);
        changed = true;
      }
    }
  }
  return t;
}

}  // namespace

std::string PgTypeFor(const std::string& warehouse_type) {
  std::string t = Unwrap(Upper(warehouse_type));
  if (t.size() >= 2 && t.compare(t.size() - 2, 2, "[]") == 0) return "JSONB";  // DuckDB INTEGER[]
  for (const char* nested : {"LIST", "STRUCT", "MAP", "UNION", "ARRAY", "TUPLE", "NESTED", "JSON", "OBJECT"})
    if (StartsWith(t, nested)) return "JSONB";
  if (t == "INTERVAL") return "INTERVAL";
  // Integers that may pass BIGINT's range are NUMERIC (DuckDB's sum of BIGINT is a HUGEINT). ClickHouse's
  // UInt64 is its count()'s type: BIGINT, like DuckDB's count; a value past 2^63 fails the refresh loudly.
  for (const char* wide : {"HUGEINT", "UHUGEINT", "UBIGINT", "INT128", "UINT128", "INT256", "UINT256", "DECIMAL",
                           "NUMERIC"})
    if (StartsWith(t, wide)) return "NUMERIC";
  for (const char* i : {"BIGINT", "INTEGER", "SMALLINT", "TINYINT", "UINTEGER", "USMALLINT", "UTINYINT", "INT",
                        "UINT"})
    if (StartsWith(t, i)) return "BIGINT";
  if (StartsWith(t, "DOUBLE") || StartsWith(t, "FLOAT") || t == "REAL") return "DOUBLE PRECISION";
  if (t == "BOOLEAN" || t == "BOOL") return "BOOLEAN";
  if (t == "DATE" || t == "DATE32") return "DATE";
  if (StartsWith(t, "TIMESTAMP") || StartsWith(t, "DATETIME")) return "TIMESTAMPTZ";
  return "TEXT";
}

std::string MartTableSql(const MartConfig& m) { return PgIdent(m.schema) + "." + PgIdent(m.table); }
std::string MartLoadsTableSql(const MartConfig& m) { return PgIdent(m.schema) + "." + PgIdent(kMartLoadsTable); }

std::string LockMartSql(const MartConfig& m) {
  return "SELECT pg_advisory_xact_lock(hashtext(" + PgLiteral("sluice mart " + m.schema + "." + m.table) + "))";
}

std::string CreateLoadsSql(const MartConfig& m) {
  return "CREATE SCHEMA IF NOT EXISTS " + PgIdent(m.schema) + ";\nCREATE TABLE IF NOT EXISTS " +
         MartLoadsTableSql(m) +
         " (\n"
         "  id BIGSERIAL NOT NULL,\n"
         "  mart TEXT NOT NULL,\n"
         "  through_seq BIGINT NOT NULL,  -- the source's transform cursor: ledger batches absorbed\n"
         "  definition TEXT NOT NULL,     -- digest of the source's definition\n"
         "  full_refresh BOOLEAN NOT NULL,\n"
         "  buckets BIGINT NOT NULL,\n"
         "  rows BIGINT NOT NULL,\n"
         "  loaded_at TIMESTAMPTZ NOT NULL DEFAULT now(),\n"
         "  PRIMARY KEY (mart, through_seq, definition))";
}

std::string LastLoadSql(const MartConfig& m) {
  return "SELECT through_seq, definition FROM " + MartLoadsTableSql(m) + " WHERE mart = $1 ORDER BY id DESC LIMIT 1";
}

std::string RecordLoadSql(const MartConfig& m) {
  return "INSERT INTO " + MartLoadsTableSql(m) +
         " (mart, through_seq, definition, full_refresh, buckets, rows) VALUES ($1, $2, $3, $4, $5, $6) "
         "ON CONFLICT DO NOTHING";
}

std::string CreateMartSql(const MartConfig& m, const std::vector<std::pair<std::string, std::string>>& columns) {
  std::string sql = "CREATE TABLE IF NOT EXISTS " + MartTableSql(m) + " (";
  for (size_t i = 0; i < columns.size(); ++i)
    sql += (i ? ", " : "") + PgIdent(columns[i].first) + " " + columns[i].second;
  sql += ")";
  if (!m.bucket.empty())
    sql += ";\nCREATE INDEX IF NOT EXISTS " + PgIdent((m.table + "_" + m.bucket).substr(0, 59) + "_idx") + " ON " +
           MartTableSql(m) + " (" + PgIdent(m.bucket) + ")";
  return sql;
}

std::string MartColumnsSql() {
  return "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 "
         "ORDER BY ordinal_position";
}

std::string AddColumnSql(const MartConfig& m, const std::string& column, const std::string& pg_type) {
  return "ALTER TABLE " + MartTableSql(m) + " ADD COLUMN IF NOT EXISTS " + PgIdent(column) + " " + pg_type;
}

namespace {
// Temporary tables live in the session's own schema: the name needs no qualification.
std::string StageName(const MartConfig& m) { return PgIdent("_sluice_stage_" + m.table); }
}  // namespace

std::string CreateStageSql(const MartConfig& m) {
  return "CREATE TEMPORARY TABLE " + StageName(m) + " (LIKE " + MartTableSql(m) +
         ") ON COMMIT DROP";
}

namespace {
std::string ColumnList(const std::vector<std::string>& columns) {
  std::string out;
  for (size_t i = 0; i < columns.size(); ++i) out += (i ? ", " : "") + PgIdent(columns[i]);
  return out;
}
}  // namespace

std::string CopyStageSql(const MartConfig& m, const std::vector<std::string>& columns) {
  return "COPY " + StageName(m) + " (" + ColumnList(columns) + ") FROM STDIN";
}

std::string DeleteBucketsSql(const MartConfig& m, bool all) {
  if (all) return "DELETE FROM " + MartTableSql(m);
  return "DELETE FROM " + MartTableSql(m) + " WHERE " + PgIdent(m.bucket) + " = ANY($1::timestamptz[])";
}

std::string InsertFromStageSql(const MartConfig& m, const std::vector<std::string>& columns) {
  return "INSERT INTO " + MartTableSql(m) + " (" + ColumnList(columns) + ") SELECT " + ColumnList(columns) +
         " FROM " + StageName(m);
}

std::string BucketArray(const std::set<int64_t>& buckets) {
  std::string out = "{";
  for (int64_t b : buckets) {
    if (out.size() > 1) out += ',';
    // FormatIsoMicros gives 2024-05-01T10:00:00Z (or with fractions), which timestamptz reads as UTC.
    out += '"' + FormatIsoMicros(b) + '"';
  }
  return out + "}";
}

void AppendCopyRow(const std::vector<std::optional<std::string>>& row, const std::vector<std::string>& pg_types,
                   std::string& out) {
  for (size_t i = 0; i < row.size(); ++i) {
    if (i) out += '\t';
    if (!row[i]) {
      out += "\\N";
      continue;
    }
    const std::string* text = &*row[i];
    std::string json;
    if (i < pg_types.size() && pg_types[i] == "JSONB" && !nlohmann::json::accept(*text)) {
      json = nlohmann::json(*text).dump();
      text = &json;
    }
    for (char c : *text) {
      switch (c) {
        case '\\': out += "\\\\"; break;
        case '\t': out += "\\t"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        default: out += c;
      }
    }
  }
  out += '\n';
}

std::string DefinitionDigest(const std::string& definition) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : definition) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace sluice
