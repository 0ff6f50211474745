// The batch ledger's table on DuckDB, and the one-time move of a ledger made before session 8 (indexed) to it.
#include <spdlog/spdlog.h>

#include "core/time.h"
#include "warehouse/duckdb/duckdb_warehouse.h"

namespace sluice {

namespace {

// No primary key, on purpose. DuckDB appends to an indexed table's last row group until it is full and rewrites
// that whole row group at every checkpoint (it starts new row groups, and vacuums, only in tables without
// indexes). With batch_id as the key, every checkpoint recompressed the whole ledger: at ~80 HTTP batches a
// second the loader's checkpoints went from ~70 to ~145 ms over 600 s, the HTTP p99. Uniqueness needs no index:
// one connection loads, and a batch id is loaded again only if the checkpoints let it (LoadBatch).
constexpr const char* kLedgerColumns = R"sql((
  batch_id VARCHAR NOT NULL,
  seq BIGINT NOT NULL,            -- load order; the transform cursor reads batches past a seq
  stream VARCHAR NOT NULL,
  source VARCHAR NOT NULL,
  partitions JSON,                -- {"partition": {"first": n, "next": n, "records": n}}
  file VARCHAR,                   -- the landed file
  rows BIGINT,
  dead_rows BIGINT,
  late_rows BIGINT,
  event_hours TIMESTAMP[],        -- hours of event time the batch touched
  min_event_time TIMESTAMP,
  max_event_time TIMESTAMP,
  received_at TIMESTAMP,
  loaded_at TIMESTAMP,
  batch_key UBIGINT,              -- Batch::BatchKey(batch_id): raw's `_batch`
  part_names VARCHAR[]            -- the partitions, in name order: raw's `_partition_index` points into it
))sql";

}  // namespace

Status DuckDbWarehouse::CreateLedger() {
  RETURN_IF_ERROR(db_->Execute(std::string("CREATE TABLE IF NOT EXISTS _sluice_batches ") + kLedgerColumns)
                      .WithContext("creating the batch ledger"));
  // Ledgers from before issue 13 lack the last two columns.
  RETURN_IF_ERROR(
      db_->Execute("ALTER TABLE _sluice_batches ADD COLUMN IF NOT EXISTS batch_key UBIGINT; "
                   "ALTER TABLE _sluice_batches ADD COLUMN IF NOT EXISTS part_names VARCHAR[]"));
  ASSIGN_OR_RETURN(auto keyed, db_->Query("SELECT count(*) FROM duckdb_constraints() WHERE table_name = "
                                          "'_sluice_batches' AND constraint_type = 'PRIMARY KEY'"));
  if (keyed.Scalar() == "0") return Status::Ok();
  // DuckDB cannot drop a primary key: a copy without it is swapped in by one transaction, so a crash leaves
  // the old table whole.
  const int64_t t0 = NowMicros();
  RETURN_IF_ERROR(db_->Execute("BEGIN TRANSACTION"));
  Status st = db_->Execute(std::string("CREATE TABLE _sluice_batches_unindexed ") + kLedgerColumns);
  if (st.ok())
    st = db_->Execute("INSERT INTO _sluice_batches_unindexed BY NAME SELECT * FROM _sluice_batches ORDER BY seq");
  if (st.ok()) st = db_->Execute("DROP TABLE _sluice_batches");
  if (st.ok()) st = db_->Execute("ALTER TABLE _sluice_batches_unindexed RENAME TO _sluice_batches");
  if (st.ok()) st = db_->Execute("COMMIT");
  if (!st.ok()) {
    (void)db_->Execute("ROLLBACK");
    return st.WithContext("moving the batch ledger to a table without an index");
  }
  spdlog::info("ledger: moved to a table without an index (checkpoints no longer rewrite it whole) in {} ms",
               (NowMicros() - t0) / 1000);
  return Status::Ok();
}

}  // namespace sluice
