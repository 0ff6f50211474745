// DuckDbWarehouse: the embedded default warehouse, a single DuckDB file.
// Thread-safety: not thread-safe (see Warehouse).
#pragma once

#include <map>
#include <memory>

#include "warehouse/duckdb/duckdb_adapter.h"
#include "warehouse/warehouse.h"

namespace sluice {

class DuckDbWarehouse : public Warehouse {
 public:
  // `memory_limit_bytes` caps DuckDB's memory (0: DuckDB's default, 80% of RAM).
  static Result<std::unique_ptr<DuckDbWarehouse>> Open(const std::string& path, int64_t memory_limit_bytes = 0);

  Status Execute(const std::string& sql) override { return db_->Execute(sql); }
  Result<QueryResult> Query(const std::string& sql) override { return db_->Query(sql); }
  Result<std::shared_ptr<Readers>> OpenReaders(size_t connections) override { return db_->OpenReaders(connections); }
  Status Prepare(const Config& config) override;
  Result<std::optional<int64_t>> NewestEventTime(const std::string& stream) override;
  Result<std::map<std::string, int64_t>> Checkpoints(const std::string& source) override;
  Result<LoadOutcome> LoadBatch(const Batch& batch, const std::string& landed_file) override;
  Result<LoadOutcome> ReplayBatch(const Batch& batch, const std::string& landed_file) override;
  // CheckpointIfDue(idle).
  Status Idle() override;
  // Rounds down to whole row groups (122,880 rows) once max_records holds at least one: a batch that ends in
  // a partial row group leaves a small one behind, and DuckDB's checkpoint rewrites its neighbours to merge it.
  int64_t BatchRecordsFor(int64_t max_records) const override;

  // Transforms (duckdb_warehouse_transform.cc).
  const SqlDialect& dialect() const override;
  Status PrepareTransforms(const Config& config) override;
  Result<int64_t> LedgerHead() override;
  Result<std::set<int64_t>> TouchedHours(const std::set<std::string>& streams, int64_t after_seq,
                                         int64_t through_seq) override;
  Result<std::map<std::string, TransformCursor>> TransformCursors() override;
  Result<bool> HasTable(const std::string& name) override;
  Status WriteTarget(const TargetWrite& write) override;
  Status DropRawBefore(const StreamConfig& stream, int32_t day) override;

  // Collectors' tables and system tables (duckdb_warehouse_collect.cc).
  Status PrepareKeyedTables(const std::vector<KeyedTable>& tables, const std::vector<DeltaView>& views) override;
  Result<int64_t> UpsertRows(const std::vector<KeyedRows>& batches) override;
  Status PutRun(const RunRecord& run) override;
  Result<std::vector<RunRecord>> Runs(const std::string& collector) override;
  Result<std::optional<HttpCacheEntry>> GetHttpCache(const std::string& url) override;
  Status PutHttpCache(const HttpCacheEntry& entry) override;
  Status DropHttpCache(const std::string& url) override;
  Status ExpireHttpCache(int64_t before_us) override;

 private:
  DuckDbWarehouse(std::unique_ptr<DuckDb> db, std::string wal_path)
      : db_(std::move(db)), wal_path_(std::move(wal_path)) {}
  Status PrepareRawTable(const StreamConfig& stream);
  // Creates the batch ledger, or moves one made with a primary key to its unindexed table (duckdb_ledger.cc).
  Status CreateLedger();
  // Raw's provenance (duckdb_raw_origin.cc). Gives ledger rows from before issue 13 their batch key and
  // partition list.
  Status FillLedgerKeys();
  // Rewrites a raw table that stores _batch_id, _source and _partition per row (`columns`: its columns in
  // order) as _batch and _partition_index, in one transaction.
  Status MigrateStringProvenance(const std::string& table, const std::vector<std::string>& columns);
  // (Re)creates the stream's origin view (StreamConfig::origin_view).
  Status CreateOriginView(const StreamConfig& stream);
  // `committed`: the source's checkpoints as read in this transaction, all behind the batch; null for a
  // replayed batch, whose checkpoints only advance (a backfilled batch may lie behind them).
  Status LoadInTransaction(const Batch& batch, const std::string& landed_file,
                           const std::map<std::string, int64_t>* committed);
  // Counts a committed batch's rows in raw_rows_in_wal_ when they went through the WAL, and checkpoints once
  // they are due.
  void Committed(const Batch& batch);
  // Checkpoints once a raw table has kCheckpointRawRows rows in the WAL; when `idle`, also once the WAL
  // has kIdleCheckpointWalBytes.
  Status CheckpointIfDue(bool idle);

  std::unique_ptr<DuckDb> db_;
  std::string wal_path_;                                         // empty for an in-memory database
  std::map<std::string, std::vector<std::string>> raw_columns_;  // raw table -> its columns, in table order
  std::map<std::string, int64_t> raw_rows_in_wal_;               // raw table -> rows committed since the last CHECKPOINT
};

}  // namespace sluice
