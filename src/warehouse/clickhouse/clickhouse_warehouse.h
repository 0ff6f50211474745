// ClickHouseWarehouse: the scale-out warehouse, a ClickHouse server or cluster over its HTTP interface.
//
// ClickHouse has no transactions, so a batch cannot be loaded in one. Exactly-once comes from ordering and
// idempotence instead (README.md "Backend"):
//   1. the batch's rows go as byte-stable Native blocks (clickhouse_rows.h), each one insert;
//   2. then its dead letters, one block;
//   3. then one ledger row in `_sluice_batches` carrying its checkpoints; Checkpoints() is, per partition,
//      the max `next` over the source's ledger rows. Until that row exists, the batch is not loaded.
// A load that dies between 1 and 3 leaves rows without a ledger row. RecoverFromLanding (at start) re-sends
// every landed batch without a ledger row, rebuilt from its landed file, so the blocks are the same bytes:
//   - on a cluster (Replicated*MergeTree), the replicas drop blocks they already have (insert
//     deduplication, kept in ZooKeeper), so re-sending is safe on any replica;
//   - on one server (plain MergeTree: 18.16 never deduplicates it), sluice counts the batch's rows already
//     in raw (`_batch_id`, pruned to the batch's event days) and sends only the blocks that are missing,
//     after waiting until no insert of the batch still runs (each block's insert has a deterministic
//     query_id, which also makes the server refuse a second copy while the first runs).
// Loads are never undone with ALTER ... DELETE (dedup hashes outlive it, so a re-insert would be dropped).
//
// Thread-safety: not thread-safe (one loader, like every Warehouse); readers are thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "warehouse/clickhouse/clickhouse_client.h"
#include "warehouse/clickhouse/clickhouse_rows.h"
#include "warehouse/clickhouse/clickhouse_schema.h"
#include "warehouse/warehouse.h"

namespace sluice {

class ClickHouseWarehouse : public Warehouse {
 public:
  struct Options {
    ClickHouseOptions server;  // url, credentials; `database` is set from `target`
    ClickHouseTarget target;   // database and cluster
    // The readers' login: a user whose profile has readonly = 1. Empty user: OpenReaders refuses.
    std::string reader_user, reader_password;
  };

  // Opens the warehouse of `config` (warehouse.kind clickhouse): reads the credentials from the environment
  // variables the config names (an unset or empty one is Invalid, never "no password"), checks the server
  // answers (Retry when it does not), creates the database and the system tables.
  static Result<std::unique_ptr<ClickHouseWarehouse>> Open(const Config& config);
  static Result<std::unique_ptr<ClickHouseWarehouse>> Open(Options options);

  Result<std::shared_ptr<Readers>> OpenReaders(size_t connections) override;
  Status Execute(const std::string& sql) override { return client_->Execute(sql); }
  Result<QueryResult> Query(const std::string& sql) override { return client_->Query(sql); }
  Status Prepare(const Config& config) override;
  Result<std::optional<int64_t>> NewestEventTime(const std::string& stream) override;
  Result<std::map<std::string, int64_t>> Checkpoints(const std::string& source) override;
  Result<LoadOutcome> LoadBatch(const Batch& batch, const std::string& landed_file) override;
  Result<LoadOutcome> ReplayBatch(const Batch& batch, const std::string& landed_file) override;
  // Loads the landed batches of the config's streams that have no ledger row (a load cut short between its
  // rows and its ledger row), oldest first, through the same fence as LoadBatch, so a batch refused as
  // stale stays refused. Looks at landing days from the day before the stream's newest ledger row (the
  // last seven days for a stream without one): recovery follows a crash, and re-sending a block older than
  // the dedup window would duplicate it. Call before the sources start.
  Status RecoverFromLanding(const Config& config, const RecoveryScope& scope = {}) override;

  // Transforms (clickhouse_warehouse_transform.cc; README.md "Transforms"). Targets are MergeTree tables
  // (on a cluster one ReplicatedMergeTree kept whole on every server) PARTITION BY toDate(<bucket>); their
  // rows change by whole days through a staging table and REPLACE PARTITION, then the cursor row is written.
  const SqlDialect& dialect() const override;
  // Creates `_sluice_transform_cursor` and (re)creates the views `_sluice_watermarks` and `_sluice_hours`
  // when `config`'s streams or lateness changed.
  Status PrepareTransforms(const Config& config) override;
  // max(seq) of the ledger. Also counts the batches of the last kLateLedgerWindow of seqs, which the cursors
  // written by WriteTarget keep, so a ledger row that becomes visible after this call with a seq at or
  // below the head (another loader's, or one replicating late) is noticed by TransformCursors.
  Result<int64_t> LedgerHead() override;
  Result<std::set<int64_t>> TouchedHours(const std::set<std::string>& streams, int64_t after_seq,
                                         int64_t through_seq) override;
  // Every target's cursor (FINAL). A cursor whose last kLateLedgerWindow of seqs now holds more batches than
  // when it was written is reported that window earlier, so the next run absorbs the late batch (again
  // recomputing, idempotently, the hours of the others in the window).
  Result<std::map<std::string, TransformCursor>> TransformCursors() override;
  Result<bool> HasTable(const std::string& name) override;
  // kReplaceBuckets: every hour of the touched days into the staging table, then REPLACE PARTITION per day.
  // kRebuild/kRebuildFrom: the select into the staging table; a table of the same columns gets its
  // partitions replaced (those from keep_before_us on, for kRebuildFrom), a new or changed one is built
  // beside and renamed in. Then the cursor row. Not atomic across days; each day is.
  Status WriteTarget(const TargetWrite& write) override;
  Status DropRawBefore(const StreamConfig& stream, int32_t day) override;

  // The collectors' tables (clickhouse_warehouse_keyed.cc): ReplacingMergeTree(_version) ORDER BY the
  // natural key (key columns not Nullable: a NULL key value is stored as its type's default), read with
  // FINAL; daily-delta views computed with arrays (18.16 has no window functions).
  Status PrepareKeyedTables(const std::vector<KeyedTable>& tables, const std::vector<DeltaView>& views) override;
  // One JSONEachRow insert per table; a re-run replaces rows by key (the highest _version wins).
  Result<int64_t> UpsertRows(const std::vector<KeyedRows>& batches) override;

  Status PutRun(const RunRecord& run) override;
  Result<std::vector<RunRecord>> Runs(const std::string& collector) override;
  Result<std::optional<HttpCacheEntry>> GetHttpCache(const std::string& url) override;
  Status PutHttpCache(const HttpCacheEntry& entry) override;
  Status DropHttpCache(const std::string& url) override;
  Status ExpireHttpCache(int64_t before_us) override;

  // Fault injection for tests: called at "rows" (every block sent), "dead_letters" (sent) and "ledger"
  // (about to be written); a non-Ok status stops the load there, as a crash would.
  void SetFaultHook(std::function<Status(std::string_view point)> hook) { fault_hook_ = std::move(hook); }

  const ClickHouseClient& client() const { return *client_; }
  const ClickHouseTarget& target() const { return options_.target; }
  // "18.16.1"
  const std::string& server_version() const { return version_; }

 private:
  enum class Mode { kLive, kReplay, kRecovery };
  struct RawTable {
    std::string insert_into;                    // the table inserts go to (Distributed on a cluster)
    std::string local;                          // the table holding this server's rows
    std::vector<RawColumn> columns;             // as the table has them, with what fills each
    BlockFormat format = BlockFormat::kNative;  // FormatFor(columns)
    bool string_provenance = false;             // made before issue 13: _batch_id, _source, _partition
  };

  explicit ClickHouseWarehouse(Options options);
  // Makes `stream`'s origin view over `table` unless the one there has its columns.
  Status PrepareOriginView(const StreamConfig& stream, const RawTable& table);
  // Runs the statements of `ddl` whose table (or database) this server does not have yet.
  Status CreateMissing(const ClickHouseClient& client, const std::vector<CreateDdl>& ddl);
  // Adds the SystemColumnsAdded() a warehouse created by an older sluice lacks.
  Status AddMissingSystemColumns(const ClickHouseClient& client);
  Status PrepareRawTable(const StreamConfig& stream);
  Result<LoadOutcome> Load(const Batch& batch, const std::string& landed_file, Mode mode);
  // The ledger's ranges of `batch_id` (partition -> range), empty when it has no ledger row.
  Result<std::map<std::string, PartitionRange>> LedgerRanges(const Batch& batch);
  Result<bool> StillCurrent(const Batch& batch);
  Result<bool> OverlapsLoaded(const Batch& batch);
  // `check_first`: count what already arrived and send the rest (one server: no dedup).
  Status SendRows(const Batch& batch, const RawTable& table, bool check_first);
  Status SendDeadLetters(const Batch& batch, bool check_first);
  Status WriteLedgerRow(const Batch& batch, const std::string& landed_file);
  // Sends one insert, retrying Retry-class failures; `landed` says, after an ambiguous failure, whether the
  // block is in already (one server); on a cluster the same bytes are simply sent again.
  Status InsertWithRetries(const std::string& sql, std::string_view data, const std::string& query_id,
                           const std::function<Result<bool>()>& landed);
  // Waits until no query whose id starts with `prefix` runs on the server (an earlier attempt's insert).
  Status WaitNotRunning(const std::string& prefix);
  // Transforms: the columns (name, type) of `table` on this server, empty when it does not exist.
  Result<std::vector<std::pair<std::string, std::string>>> TableColumns(const std::string& table);
  // The active partition ids of `table` on this server.
  Result<std::set<std::string>> PartitionIds(const std::string& table);
  Status RebuildTarget(const TargetWrite& write);
  Status WriteCursor(const TargetWrite& write);
  // Asks write.fence (TargetWrite); refused, drops this writer's `stage` and returns the refusal.
  Status FenceOrDropStage(const TargetWrite& write, const std::string& stage);
  // Runs a DDL statement ON CLUSTER (when clustered); for statements every server must run.
  Status ExecuteEverywhere(const std::string& ddl);
  Status CreateOrReplaceView(const std::string& name, const std::string& select);
  Status Fault(std::string_view point) { return fault_hook_ ? fault_hook_(point) : Status::Ok(); }
  uint64_t NextVersion();

  Options options_;
  std::unique_ptr<ClickHouseClient> client_;
  std::string version_;
  std::map<std::string, RawTable> raw_;  // by stream name
  ByteBuffer block_buffer_;              // the block being sent, kept across loads (its pages stay mapped)
  std::function<Status(std::string_view)> fault_hook_;
  uint64_t last_version_ = 0;
  // Names this warehouse's staging tables (ClickHouseDialect::StagingTable): random hex, one per instance.
  const std::string writer_id_;
  // LedgerHead's last answer and the distinct batches with seq in (head - kLateLedgerWindow, head] then.
  int64_t snapshot_head_ = -1;
  uint64_t snapshot_window_batches_ = 0;
};

// How late a ledger row may become visible after its seq (the loader's clock when it wrote the row):
// insert retries, replication, clock skew between loaders. Cursors re-absorb this window when a late row
// appears in it.
constexpr int64_t kLateLedgerWindowMicros = 5 * 60 * 1'000'000LL;

}  // namespace sluice
