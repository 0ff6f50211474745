// OpenWarehouse: the one place that maps `warehouse.kind` to an engine.
#include "warehouse/clickhouse/clickhouse_warehouse.h"
#include "warehouse/duckdb/duckdb_warehouse.h"
#include "warehouse/warehouse.h"

namespace sluice {

Result<std::unique_ptr<Warehouse>> OpenWarehouse(const Config& config) {
  if (config.warehouse_kind == "duckdb") {
    ASSIGN_OR_RETURN(auto w, DuckDbWarehouse::Open(config.warehouse_path, config.warehouse_memory_limit));
    return std::unique_ptr<Warehouse>(std::move(w));
  }
  if (config.warehouse_kind == "clickhouse") {
    ASSIGN_OR_RETURN(auto w, ClickHouseWarehouse::Open(config));
    return std::unique_ptr<Warehouse>(std::move(w));
  }
  return Status::Invalid(config.file + ": warehouse.kind '" + config.warehouse_kind + "' is not supported yet");
}

}  // namespace sluice
