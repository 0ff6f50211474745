#include "warehouse/sql_dialect.h"

#include "core/schema.h"
#include "warehouse/clickhouse/clickhouse_dialect.h"
#include "warehouse/duckdb/duckdb_dialect.h"

namespace sluice {

std::string SqlDialect::Ident(std::string_view name) const { return QuoteIdent(name); }
std::string SqlDialect::Literal(std::string_view text) const { return QuoteLiteral(text); }

std::string SqlDialect::TimestampList(const std::set<int64_t>& micros) const {
  std::string out;
  for (int64_t m : micros) out += (out.empty() ? "" : ", ") + Timestamp(m);
  return out;
}

const SqlDialect& DialectFor(const std::string& kind) {
  static const DuckDbDialect kDuckDb;
  static const ClickHouseDialect kClickHouse;
  if (kind == "clickhouse") return kClickHouse;
  return kDuckDb;
}

}  // namespace sluice
