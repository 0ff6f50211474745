// Raw's provenance on DuckDB: the origin view that turns `_batch` and `_partition_index` back into the batch id,
// source, partition and landed file, and the one-time move of a warehouse made before issue 13 (the strings on every
// row) to that layout.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "core/batch.h"
#include "core/time.h"
#include "warehouse/duckdb/duckdb_warehouse.h"

namespace sluice {

namespace {

// Ledger rows written before issue 13 have no batch_key or part_names; filled in a few thousand at a time.
constexpr size_t kKeysPerUpdate = 2'000;

// Runs `work`, logging every 10 s that `what` goes on, so a long one-time move is not silent.
Status WithHeartbeat(const std::string& what, const std::function<Status()>& work) {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::thread beat([&] {
    const int64_t t0 = NowMicros();
    std::unique_lock<std::mutex> lock(mu);
    while (!cv.wait_for(lock, std::chrono::seconds(10), [&] { return done; }))
      spdlog::info("{}: still going after {} s", what, (NowMicros() - t0) / 1'000'000);
  });
  Status st = work();
  {
    std::lock_guard<std::mutex> lock(mu);
    done = true;
  }
  cv.notify_all();
  beat.join();
  return st;
}

}  // namespace

Status DuckDbWarehouse::FillLedgerKeys() {
  ASSIGN_OR_RETURN(auto missing, db_->Query("SELECT batch_id FROM _sluice_batches WHERE batch_key IS NULL"));
  if (missing.rows.empty()) return Status::Ok();
  spdlog::info("ledger: giving {} batches from before issue 13 their batch key", missing.rows.size());
  RETURN_IF_ERROR(db_->Execute("BEGIN TRANSACTION"));
  Status st = db_->Execute("UPDATE _sluice_batches SET part_names = json_keys(partitions) WHERE part_names IS NULL");
  for (size_t at = 0; st.ok() && at < missing.rows.size(); at += kKeysPerUpdate) {
    std::string values;
    for (size_t i = at; i < std::min(missing.rows.size(), at + kKeysPerUpdate); ++i) {
      const std::string& id = missing.rows[i][0].value_or("");
      values +=
          (values.empty() ? "(" : ", (") + QuoteLiteral(id) + ", " + std::to_string(Batch::BatchKey(id)) + "::UBIGINT)";
    }
    st = db_->Execute("UPDATE _sluice_batches SET batch_key = k.batch_key FROM (VALUES " + values +
                      ") k(batch_id, batch_key) WHERE _sluice_batches.batch_id = k.batch_id");
  }
  if (st.ok()) st = db_->Execute("COMMIT");
  if (!st.ok()) (void)db_->Execute("ROLLBACK");
  return st.WithContext("filling the ledger's batch keys");
}

Status DuckDbWarehouse::MigrateStringProvenance(const std::string& table, const std::vector<std::string>& columns) {
  ASSIGN_OR_RETURN(auto count, db_->Query("SELECT count(*) FROM " + QuoteIdent(table)));
  const std::string rows = count.Scalar();
  spdlog::info(
      "{}: moving {} rows to raw's compact provenance (_batch, _partition_index instead of _batch_id, _source, "
      "_partition; the origin view shows them)",
      table, rows);
  const int64_t t0 = NowMicros();
  // A copy in the old physical order, swapped in by one transaction: a crash leaves the old table whole.
  std::string select;
  for (const auto& c : columns) {
    if (c == "_batch_id" || c == "_source" || c == "_partition") continue;
    if (c == "_offset")
      select +=
          "b.batch_key AS _batch, (list_position(b.part_names, r._partition) - 1)::UINTEGER AS _partition_index, ";
    select += "r." + QuoteIdent(c) + ", ";
  }
  select.resize(select.size() - 2);
  const std::string moving = table + "__moving";
  RETURN_IF_ERROR(db_->Execute("BEGIN TRANSACTION"));
  Status st = WithHeartbeat("moving " + table, [&] {
    return db_->Execute("CREATE TABLE " + QuoteIdent(moving) + " AS SELECT " + select + " FROM " + QuoteIdent(table) +
                        " r LEFT JOIN _sluice_batches b ON b.batch_id = r._batch_id ORDER BY r.rowid");
  });
  if (st.ok()) {
    // Every row of raw was committed with its ledger row, so each finds its key; if one did not, stop here.
    auto unmatched =
        db_->Query("SELECT count(*) FROM " + QuoteIdent(moving) + " WHERE _batch IS NULL OR _partition_index IS NULL");
    if (!unmatched.ok())
      st = unmatched.status();
    else if (unmatched->Scalar() != "0")
      st = Status::Internal(unmatched->Scalar() + " rows of " + table +
                            " have no batch in the ledger; the table keeps its old layout");
  }
  if (st.ok()) st = db_->Execute("DROP TABLE " + QuoteIdent(table));
  if (st.ok()) st = db_->Execute("ALTER TABLE " + QuoteIdent(moving) + " RENAME TO " + QuoteIdent(table));
  if (st.ok()) st = db_->Execute("COMMIT");
  if (!st.ok()) {
    (void)db_->Execute("ROLLBACK");
    return st.WithContext("moving " + table + " to the compact provenance layout");
  }
  spdlog::info("{}: {} rows moved in {} ms", table, rows, (NowMicros() - t0) / 1000);
  return Status::Ok();
}

Status DuckDbWarehouse::CreateOriginView(const StreamConfig& s) {
  return db_->Execute(
      "CREATE OR REPLACE VIEW " + QuoteIdent(s.origin_view()) +
      " AS SELECT r.*, b.batch_id AS _batch_id, b.source AS _source, b.part_names[r._partition_index + 1] AS "
      "_partition, b.file AS _landed_file FROM " +
      QuoteIdent(s.raw_table()) + " r LEFT JOIN _sluice_batches b ON b.batch_key = r._batch");
}

}  // namespace sluice
