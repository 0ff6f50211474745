// ClickHouseWarehouse: what transforms and the collectors' keyed tables need. The ledger queries work; rollups
// and models (recompute touched days into a staging table, then REPLACE PARTITION, README.md) and keyed tables
// (ReplacingMergeTree by key, read with FINAL) are not built yet and say so.
#include "core/time.h"
#include "warehouse/clickhouse/clickhouse_warehouse.h"

namespace sluice {
namespace {

Status NotYet(std::string_view what) {
  return Status::Invalid(std::string(what) + " is not supported on ClickHouse yet");
}

}  // namespace

const SqlDialect& ClickHouseWarehouse::dialect() const { return DialectFor("clickhouse"); }

Status ClickHouseWarehouse::PrepareTransforms(const Config& config) {
  (void)config;
  return NotYet("transforms (rollups, models)");
}

Result<int64_t> ClickHouseWarehouse::LedgerHead() {
  ASSIGN_OR_RETURN(auto r, client_->Query("SELECT max(seq) FROM _sluice_batches"));
  return std::stoll(r.Scalar().empty() ? "0" : r.Scalar());
}

Result<std::set<int64_t>> ClickHouseWarehouse::TouchedHours(const std::set<std::string>& streams, int64_t after_seq,
                                                            int64_t through_seq) {
  std::string list;
  for (const auto& s : streams) list += (list.empty() ? "" : ", ") + ChLiteral(s);
  if (list.empty()) return std::set<int64_t>();
  ASSIGN_OR_RETURN(auto r, client_->Query("SELECT DISTINCT toInt64(h) FROM _sluice_batches ARRAY JOIN event_hours "
                                          "AS h WHERE seq > " +
                                          std::to_string(after_seq) + " AND seq <= " + std::to_string(through_seq) +
                                          " AND stream IN (" + list + ")"));
  std::set<int64_t> hours;
  for (const auto& row : r.rows)
    if (row[0]) hours.insert(std::stoll(*row[0]) * 1'000'000);
  return hours;
}

Result<std::map<std::string, TransformCursor>> ClickHouseWarehouse::TransformCursors() {
  return NotYet("transform cursors");
}

Result<bool> ClickHouseWarehouse::HasTable(const std::string& name) {
  ASSIGN_OR_RETURN(auto r, client_->Query("SELECT count() FROM system.tables WHERE database = " +
                                          ChLiteral(options_.target.database) + " AND name = " + ChLiteral(name)));
  return r.Scalar() != "0";
}

Status ClickHouseWarehouse::WriteTarget(const TargetWrite& write) {
  (void)write;
  return NotYet("writing a transform target");
}

Status ClickHouseWarehouse::DropRawBefore(const StreamConfig& stream, int32_t day) {
  // Whole event days, as partitions (never ALTER ... DELETE); on a cluster on every shard.
  const ClickHouseTarget& t = options_.target;
  ASSIGN_OR_RETURN(auto r,
                   client_->Query("SELECT DISTINCT toString(event_date) FROM " + ChTable(t, stream.raw_table()) +
                                  " WHERE event_date < " + ChLiteral(FormatIsoDate(day))));
  for (const auto& row : r.rows)
    RETURN_IF_ERROR(client_->Execute("ALTER TABLE " + ChTable(t, LocalRawTable(t, stream)) +
                                     (t.clustered() ? " ON CLUSTER " + t.cluster : "") + " DROP PARTITION " +
                                     ChLiteral(row[0].value_or(""))));
  return Status::Ok();
}

Status ClickHouseWarehouse::PrepareKeyedTables(const std::vector<KeyedTable>& tables,
                                               const std::vector<DeltaView>& views) {
  (void)tables, (void)views;
  return NotYet("the collectors' tables kept by natural key");
}

Result<int64_t> ClickHouseWarehouse::UpsertRows(const std::vector<KeyedRows>& batches) {
  (void)batches;
  return NotYet("upserting rows by natural key");
}

}  // namespace sluice
