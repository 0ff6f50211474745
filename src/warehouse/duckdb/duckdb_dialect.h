// DuckDbDialect: DuckDB's spelling of the SQL sluice generates (sql_dialect.h). A target's rows are replaced
// by DELETE + INSERT (or CREATE OR REPLACE TABLE for a rebuild), which DuckDbWarehouse runs in one
// transaction with the cursor.
// Thread-safety: immutable.
#pragma once

#include "warehouse/sql_dialect.h"

namespace sluice {

class DuckDbDialect final : public SqlDialect {
 public:
  std::string Timestamp(int64_t micros) const override;
  std::string NullTimestamp() const override { return "NULL::TIMESTAMP"; }
  std::string TimeBucket(std::string_view grain, const std::string& expr) const override;
  std::string MinusMicros(const std::string& ts_expr, int64_t micros) const override {
    return ts_expr + " - to_microseconds(" + std::to_string(micros) + ")";
  }
  std::string ApproxDistinct(const std::string& expr) const override { return "approx_count_distinct(" + expr + ")"; }
  std::string CountIf(const std::string& predicate) const override {
    return "count(*) FILTER (WHERE " + predicate + ")";
  }
  std::string GroupBy(const std::vector<std::string>&) const override { return "GROUP BY ALL"; }
  std::vector<std::string> WriteTargetSql(const TargetWrite& write) const override;
  StatusQueries StatusSql() const override;
};

}  // namespace sluice
