// Warehouse: where batches become tables. One implementation per engine (DuckDB embedded by default;
// ClickHouse for scale-out). Loading is exactly-once: LoadBatch writes a batch's rows, its dead letters, the
// advanced checkpoints and its `_sluice_batches` ledger row in one transaction (DESIGN.md semantics 1, 2).
// Thread-safety: not thread-safe; one owner (the loader) at a time.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "core/batch.h"
#include "core/config.h"
#include "core/status.h"
#include "warehouse/query_result.h"
#include "warehouse/keyed_table.h"
#include "warehouse/reader.h"
#include "warehouse/sql_dialect.h"
#include "warehouse/system_records.h"

namespace sluice {

enum class LoadOutcome { kLoaded, kDuplicate, kStale };

// Which landed batches RecoverFromLanding completes: all (the default), or one source's.
struct RecoveryScope {
  std::string source;                    // empty: every source
  std::set<std::string> skip_batch_ids;  // in flight in this process: its own loader completes them
};

class Warehouse {
 public:
  virtual ~Warehouse() = default;

  // A pool of `connections` connections for people's queries, apart from this one (reader.h). The pool is
  // thread-safe and may be used from any thread while the loader uses this object.
  virtual Result<std::shared_ptr<Readers>> OpenReaders(size_t connections) = 0;

  // Sluice's own SQL, on the loader's connection (transforms, collectors, system tables); never people's.
  // Runs a statement that returns nothing of interest.
  virtual Status Execute(const std::string& sql) = 0;
  // Runs a query and materialises its result.
  virtual Result<QueryResult> Query(const std::string& sql) = 0;

  // Creates sluice's system tables and each stream's raw table; adds columns for fields added to the config
  // since (schema evolution: columns are never dropped).
  virtual Status Prepare(const Config& config) = 0;

  // The newest event time (micros) loaded for `stream`, nullopt before its first batch: where the stream's
  // watermark resumes after a restart.
  virtual Result<std::optional<int64_t>> NewestEventTime(const std::string& stream) = 0;

  // The next offset to read per partition of `source`, as last committed. Empty for a new source.
  virtual Result<std::map<std::string, int64_t>> Checkpoints(const std::string& source) = 0;

  // Loads `batch` (already landed at `landed_file`) in one transaction. Changes nothing and says why when
  // the batch was loaded before (kDuplicate: a replay) or when a checkpoint it starts from has since moved
  // past its first offset (kStale: another consumer of the partition committed those records first).
  virtual Result<LoadOutcome> LoadBatch(const Batch& batch, const std::string& landed_file) = 0;

  // Loads a batch rebuilt from landing (`sluice backfill`) in one transaction. Idempotent by batch id
  // (kDuplicate when already loaded) but without the checkpoint fence: replayed records are older than the
  // checkpoints by design. Checkpoints only move forward, so a replay never makes a source re-read. kStale
  // when its positions overlap a batch already loaded from the same source (a batch refused as stale live).
  virtual Result<LoadOutcome> ReplayBatch(const Batch& batch, const std::string& landed_file) {
    (void)batch, (void)landed_file;
    return Status::Invalid("this warehouse cannot replay batches");
  }

  // Called by the loader when nothing is queued: the moment for the engine's housekeeping (DuckDB:
  // checkpoint the write-ahead log), which would otherwise stall a batch's commit.
  virtual Status Idle() { return Status::Ok(); }

  // The largest record count up to `max_records` that suits the engine's storage blocks; sources cut
  // batches by it (DuckDB: whole row groups, so bulk loads leave no small row groups to merge later).
  virtual int64_t BatchRecordsFor(int64_t max_records) const { return max_records; }

  // Completes loads that a crash cut short, from landing (the store the config names, OpenObjectStore: a
  // folder or an S3 bucket), before the sources start.
  // Engines whose LoadBatch is one transaction have nothing to complete (DuckDB). ClickHouse loads a batch
  // in steps (rows, dead letters, ledger row) and re-sends landed batches that have no ledger row.
  // `scope` narrows it when several workers share the pipeline: a worker taking over a dead worker's Kafka
  // partitions completes that source's landed batches first, skipping the ones it has in flight itself.
  virtual Status RecoverFromLanding(const Config& config, const RecoveryScope& scope = {}) {
    (void)config, (void)scope;
    return Status::Ok();
  }

  // ---- Transforms: rollups and models kept up to date by event hour (transform/transformer.h) ----
  // How this engine spells the SQL sluice generates.
  virtual const SqlDialect& dialect() const = 0;
  // Creates the transform cursors' table and the views `_sluice_watermarks(stream, max_event_time,
  // watermark, late_rows)` and `_sluice_hours(stream, hour, rows, final)` for `config`'s streams.
  virtual Status PrepareTransforms(const Config& config) = 0;
  // The ledger's newest sequence number, 0 when it is empty: what a transform run absorbs up to.
  virtual Result<int64_t> LedgerHead() = 0;
  // The event hours (hour starts, micros) touched by the batches of `streams` with after < seq <= through.
  virtual Result<std::set<int64_t>> TouchedHours(const std::set<std::string>& streams, int64_t after_seq,
                                                 int64_t through_seq) = 0;
  // Every target's cursor, by target name.
  virtual Result<std::map<std::string, TransformCursor>> TransformCursors() = 0;
  // Whether a table or view named `name` exists.
  virtual Result<bool> HasTable(const std::string& name) = 0;
  // Performs `write` (sql_dialect.h): the target's rows and its cursor change together or not at all.
  virtual Status WriteTarget(const TargetWrite& write) = 0;
  // Drops `stream`'s raw rows whose event day (days since the epoch) is before `day` (retention).
  virtual Status DropRawBefore(const StreamConfig& stream, int32_t day) = 0;

  // ---- Tables kept by natural key (the collectors' tables) ----
  // Creates `tables` where missing, adds the columns they lack (never drops one), and (re)creates `views`.
  virtual Status PrepareKeyedTables(const std::vector<KeyedTable>& tables, const std::vector<DeltaView>& views) = 0;
  // Writes every row of `batches`, each replacing the row with the same key: all of them or none. Returns the
  // rows written.
  virtual Result<int64_t> UpsertRows(const std::vector<KeyedRows>& batches) = 0;

  // ---- Collector runs (`_sluice_runs`) ----
  // Records `run`; a later call for the same run_id replaces the earlier (a run's end follows its start).
  virtual Status PutRun(const RunRecord& run) = 0;
  // The runs of `collector` ("" for every collector), oldest first (by start, then run id).
  virtual Result<std::vector<RunRecord>> Runs(const std::string& collector) = 0;

  // ---- The HTTP cache of conditional GETs (`_sluice_http_cache`) ----
  // The entry for `url`, or nullopt.
  virtual Result<std::optional<HttpCacheEntry>> GetHttpCache(const std::string& url) = 0;
  // Stores `entry`, replacing the older entry of its URL. Body, ETag and headers must be UTF-8 text.
  virtual Status PutHttpCache(const HttpCacheEntry& entry) = 0;
  virtual Status DropHttpCache(const std::string& url) = 0;
  // Drops the entries fetched before `before_us`.
  virtual Status ExpireHttpCache(int64_t before_us) = 0;
};

// Opens the warehouse the config names (creating the DuckDB file and its folder when needed).
Result<std::unique_ptr<Warehouse>> OpenWarehouse(const Config& config);

}  // namespace sluice
