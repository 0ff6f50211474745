#include "warehouse/duckdb/duckdb_warehouse.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <numeric>

#include "core/record_parser.h"
#include "core/time.h"

namespace sluice {

// sluice's own tables, created when the warehouse opens (every command may need them).
constexpr const char* kSystemTablesSql = R"sql(
CREATE SEQUENCE IF NOT EXISTS _sluice_batch_seq;
CREATE TABLE IF NOT EXISTS _sluice_checkpoints (
  source VARCHAR NOT NULL,
  "partition" VARCHAR NOT NULL,
  next_offset BIGINT NOT NULL,
  batch_id VARCHAR,
  updated_at TIMESTAMP,
  PRIMARY KEY (source, "partition")
);
CREATE TABLE IF NOT EXISTS _sluice_dead_letters (
  stream VARCHAR,
  source VARCHAR,
  "partition" VARCHAR,
  "offset" BIGINT,
  received_at TIMESTAMP,
  error VARCHAR,
  raw BLOB,                       -- the record's bytes, truncated past a limit
  raw_length BIGINT,              -- the record's full length
  batch_id VARCHAR
);
CREATE TABLE IF NOT EXISTS _sluice_runs (
  run_id VARCHAR PRIMARY KEY,
  collector VARCHAR NOT NULL,
  scheduled_at TIMESTAMP NOT NULL,  -- the cron slot the run serves
  started_at TIMESTAMP NOT NULL,
  ended_at TIMESTAMP,               -- NULL while running (or if sluice died mid-run)
  status VARCHAR NOT NULL,          -- running | succeeded | failed | partial
  "rows" BIGINT,
  error VARCHAR
);
-- Columns added after a release: a warehouse created before them evolves here.
ALTER TABLE _sluice_runs ADD COLUMN IF NOT EXISTS notes JSON;  -- what the run skipped, waited for, fetched
CREATE TABLE IF NOT EXISTS _sluice_http_cache (
  url VARCHAR PRIMARY KEY,     -- the absolute URL of the GET
  etag VARCHAR NOT NULL,       -- sent back as If-None-Match
  headers VARCHAR NOT NULL,    -- JSON [[name, value], ...]: only the response headers a 304 reuses
  body VARCHAR NOT NULL,       -- the 200's body, handed back on a 304
  body_bytes BIGINT NOT NULL,
  fetched_at TIMESTAMP NOT NULL
);
)sql";

namespace {

// DuckDB's own checkpoint inside COMMIT: a safety net for a loader that is never idle.
constexpr const char* kCheckpointThreshold = "512MB";
// DuckDB's default row group size.
constexpr int64_t kRowGroupRows = 122'880;
// The loader checkpoints once a raw table holds this many rows that are only in the WAL. Every checkpoint
// closes the last row group of each table without an index (raw, the ledger), and DuckDB's vacuum merges
// adjacent partial row groups when they fit in fewer (4 into 3, 3 into 2, 2 into 1), rewriting rows already
// on disk: at 100,000 events/s a 16MB WAL held ~85,000 rows, and every 4th checkpoint rewrote ~340,000 rows
// (~280 ms, the HTTP p99). Row groups of more than 3/4 of the full size never fit in fewer, so checkpoints
// come between 3/4 and full, with room for the batch that crosses.
constexpr int64_t kCheckpointRawRows = kRowGroupRows * 13 / 16;
// ... or, when idle, once the WAL is this big, whatever is in it (collectors, transforms, wide rows).
constexpr uintmax_t kIdleCheckpointWalBytes = 64 << 20;

// Provenance is a batch key and the partition's position per row (not named `_part`: ClickHouse's MergeTree
// has a virtual column of that name, and raw has one layout on both engines), constant over long runs of rows, which
// DuckDB stores in next to nothing; the strings they stand for are in the ledger (origin view). Storing the
// batch id, source and partition name on every row cost raw ~1.4x the storage time (bench/ingest).
std::string FieldsDdl(const StreamConfig& s) {
  std::string ddl;
  for (const auto& f : s.schema.fields) ddl += QuoteIdent(f.name) + " " + f.type.SqlType() + ", ";
  return ddl + "event_date DATE, _extra JSON, _batch UBIGINT, _partition_index UINTEGER, _offset BIGINT";
}

// Replaces bytes that are not valid UTF-8 with '?', so any text can go into a VARCHAR.
std::string ValidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool ok = len > 0 && i + len <= s.size();
    for (int k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) >> 6) == 2;
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += '?';
      ++i;
    }
  }
  return out;
}

std::string TimestampLiteral(int64_t micros) { return "TIMESTAMP '" + FormatSqlTimestamp(micros) + "'"; }

// The ledger's record of what a batch covered: {"partition": {"first": n, "next": n, "records": n}}.
std::string PartitionsJson(const Batch& batch) {
  std::string json = "{";
  for (const auto& [p, r] : batch.ranges) {
    if (json.size() > 1) json += ",";
    AppendJsonString(json, ValidUtf8(p));
    json += ":{\"first\":" + std::to_string(r.first) + ",\"next\":" + std::to_string(r.next) +
            ",\"records\":" + std::to_string(r.records) + "}";
  }
  return json + "}";
}

// Whether every partition of `batch` still starts at or after its checkpoint in `committed` (the source's).
bool StillCurrent(const Batch& batch, const std::map<std::string, int64_t>& committed) {
  for (const auto& [partition, range] : batch.ranges) {
    auto it = committed.find(ValidUtf8(partition));
    // Gaps are fine (blank lines, Kafka transaction markers); going back is not: those records are loaded.
    if (it != committed.end() && it->second > range.first) return false;
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<DuckDbWarehouse>> DuckDbWarehouse::Open(const std::string& path, int64_t memory_limit_bytes) {
  if (path != ":memory:") {
    std::error_code ec;
    auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  }
  // DuckDB checkpoints inside a COMMIT whose estimated size (optimistically written rows included) passes
  // this threshold: at the default 16MB every bulk batch paid a 0.2-0.8 s single-threaded checkpoint. Big
  // batches are written to the file during their INSERT and add little to the WAL, so the threshold is
  // raised to a safety net and the loader checkpoints when idle instead (Idle).
  // Metadata reuse: a checkpoint keeps the metadata of row groups it did not change instead of writing all of
  // it again, so its cost does not grow with the table (an idle checkpoint of 100,000 new rows took 63-86 ms
  // next to 30 M rows with it, 83-108 ms and rising without; bench/latency's p99 follows checkpoints). It is
  // DuckDB 1.5's default; 1.4 ships it behind this flag.
  std::vector<std::pair<std::string, std::string>> settings = {{"checkpoint_threshold", kCheckpointThreshold},
                                                               {"experimental_metadata_reuse", "true"}};
  if (memory_limit_bytes > 0) settings.emplace_back("memory_limit", std::to_string(memory_limit_bytes >> 20) + "MiB");
  ASSIGN_OR_RETURN(auto db, DuckDb::Open(path, settings));
  std::unique_ptr<DuckDbWarehouse> w(new DuckDbWarehouse(std::move(db), path == ":memory:" ? "" : path + ".wal"));
  RETURN_IF_ERROR(w->CreateLedger());
  RETURN_IF_ERROR(w->db_->Execute(kSystemTablesSql).WithContext("creating system tables"));
  RETURN_IF_ERROR(w->FillLedgerKeys());
  return w;
}

int64_t DuckDbWarehouse::BatchRecordsFor(int64_t max_records) const {
  return max_records >= kRowGroupRows ? max_records - max_records % kRowGroupRows : max_records;
}

Status DuckDbWarehouse::Idle() { return CheckpointIfDue(/*idle=*/true); }

Status DuckDbWarehouse::CheckpointIfDue(bool idle) {
  if (wal_path_.empty()) return Status::Ok();
  int64_t most_rows = 0;
  for (const auto& [table, rows] : raw_rows_in_wal_) most_rows = std::max(most_rows, rows);
  std::error_code ec;
  const auto wal_bytes = idle ? std::filesystem::file_size(wal_path_, ec) : 0;
  // Rows are due even while batches wait: a busy loader that let them pass a row group would leave a full
  // one and a small one, which the next checkpoints merge by rewriting the full one.
  if (most_rows < kCheckpointRawRows && (ec || wal_bytes < kIdleCheckpointWalBytes)) return Status::Ok();
  const int64_t t0 = NowMicros();
  RETURN_IF_ERROR(db_->Execute("CHECKPOINT").WithContext("checkpoint"));
  raw_rows_in_wal_.clear();
  spdlog::debug("checkpointed {} raw rows ({} MB WAL{}) in {} ms", most_rows, wal_bytes >> 20, idle ? ", idle" : "",
                (NowMicros() - t0) / 1000);
  return Status::Ok();
}

void DuckDbWarehouse::Committed(const Batch& batch) {
  // A batch of a row group or more is written to the file during its INSERT (BatchRecordsFor).
  if (static_cast<int64_t>(batch.rows()) < kRowGroupRows) raw_rows_in_wal_[batch.stream().raw_table()] += batch.rows();
  // The batch is loaded whatever happens here; a failed checkpoint is tried again after the next one.
  Status st = CheckpointIfDue(/*idle=*/false);
  if (!st.ok()) spdlog::warn("after batch {}: {}", batch.id, st.ToString());
}

Status DuckDbWarehouse::Prepare(const Config& config) {
  for (const auto& s : config.streams) RETURN_IF_ERROR(PrepareRawTable(s).WithContext("raw table of " + s.name));
  return Status::Ok();
}

Status DuckDbWarehouse::PrepareRawTable(const StreamConfig& s) {
  std::string table = s.raw_table();
  RETURN_IF_ERROR(db_->Execute("CREATE TABLE IF NOT EXISTS " + QuoteIdent(table) + " (" + FieldsDdl(s) + ")"));
  ASSIGN_OR_RETURN(auto cols, db_->Query("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = " +
                                         QuoteLiteral(table) + " ORDER BY column_index"));
  std::vector<std::string> names;
  for (const auto& row : cols.rows) names.push_back(*row[0]);
  if (std::find(names.begin(), names.end(), "_batch_id") != names.end()) {
    RETURN_IF_ERROR(MigrateStringProvenance(table, names));
    return PrepareRawTable(s);
  }
  for (const auto& f : s.schema.fields) {
    if (std::find(names.begin(), names.end(), f.name) != names.end()) continue;
    // Schema evolution: a field added to the config becomes a new column; old rows read NULL.
    spdlog::info("stream {}: adding column {} {} to {}", s.name, f.name, f.type.SqlType(), table);
    RETURN_IF_ERROR(db_->Execute("ALTER TABLE " + QuoteIdent(table) + " ADD COLUMN " + QuoteIdent(f.name) + " " +
                                 f.type.SqlType()));
    names.push_back(f.name);
  }
  raw_columns_[table] = std::move(names);
  // Recreated every time: a view's columns are fixed when it is made, and raw may have gained some.
  return CreateOriginView(s);
}

Result<std::optional<int64_t>> DuckDbWarehouse::NewestEventTime(const std::string& stream) {
  ASSIGN_OR_RETURN(auto r, db_->Query("SELECT epoch_us(max(max_event_time)) FROM _sluice_batches WHERE stream = " +
                                      QuoteLiteral(stream)));
  if (r.Scalar().empty()) return std::optional<int64_t>();
  return std::optional<int64_t>(std::stoll(r.Scalar()));
}

Result<std::map<std::string, int64_t>> DuckDbWarehouse::Checkpoints(const std::string& source) {
  ASSIGN_OR_RETURN(auto r, db_->Query("SELECT \"partition\", next_offset FROM _sluice_checkpoints WHERE source = " +
                                      QuoteLiteral(source)));
  std::map<std::string, int64_t> out;
  for (const auto& row : r.rows) out[*row[0]] = std::stoll(*row[1]);
  return out;
}

Result<LoadOutcome> DuckDbWarehouse::LoadBatch(const Batch& batch, const std::string& landed_file) {
  RETURN_IF_ERROR(db_->Execute("BEGIN TRANSACTION"));
  // A batch loaded before moved its checkpoints past its first positions in the same transaction, so the
  // checkpoints alone say it is new; the ledger, unindexed (duckdb_ledger.cc), is scanned only when they do
  // not, or when the batch covers no position at all.
  auto committed = Checkpoints(batch.source);
  const bool current = committed.ok() && StillCurrent(batch, *committed);
  const bool covers_positions =
      !batch.ranges.empty() && std::all_of(batch.ranges.begin(), batch.ranges.end(),
                                           [](const auto& range) { return range.second.next > range.second.first; });
  Result<QueryResult> seen = QueryResult{};
  if (committed.ok() && (!current || !covers_positions))
    seen = db_->Query("SELECT partitions FROM _sluice_batches WHERE batch_id = " + QuoteLiteral(batch.id));
  if (!committed.ok() || !seen.ok() || !seen->rows.empty() || !current) {
    (void)db_->Execute("ROLLBACK");
    if (!committed.ok()) return committed.status();
    if (!seen.ok()) return seen.status();
    // Exactly-once means doing nothing: either a replay of a batch already loaded (same id, same ranges),
    // or records committed already (another consumer's batch, or the same first position cut
    // differently, so its id matches but not its ranges: the source must re-read from the checkpoint).
    if (!seen->rows.empty() && seen->rows[0][0] == PartitionsJson(batch)) return LoadOutcome::kDuplicate;
    return LoadOutcome::kStale;
  }
  int64_t t0 = NowMicros();
  Status st = LoadInTransaction(batch, landed_file, &*committed);
  int64_t t1 = NowMicros();
  if (st.ok()) st = db_->Execute("COMMIT");
  if (st.ok()) Committed(batch);
  spdlog::debug("batch {}: rows in {} ms, commit in {} ms", batch.id, (t1 - t0) / 1000, (NowMicros() - t1) / 1000);
  if (!st.ok()) {
    (void)db_->Execute("ROLLBACK");
    return st.WithContext("loading batch " + batch.id);
  }
  return LoadOutcome::kLoaded;
}

Result<LoadOutcome> DuckDbWarehouse::ReplayBatch(const Batch& batch, const std::string& landed_file) {
  RETURN_IF_ERROR(db_->Execute("BEGIN TRANSACTION"));
  auto seen = db_->Query("SELECT count(*) FROM _sluice_batches WHERE batch_id = " + QuoteLiteral(batch.id));
  if (!seen.ok() || seen->Scalar() != "0") {
    (void)db_->Execute("ROLLBACK");
    if (!seen.ok()) return seen.status();
    return LoadOutcome::kDuplicate;
  }
  // Landing also keeps batches refused as stale (their records were committed under another id): a batch
  // overlapping the positions of one already loaded from the same source would load records twice.
  std::string overlap = "SELECT count(*) FROM _sluice_batches b, json_each(b.partitions) j WHERE b.source = " +
                        QuoteLiteral(batch.source) + " AND (";
  bool first = true;
  for (const auto& [p, r] : batch.ranges) {
    overlap += std::string(first ? "" : " OR ") + "(j.key = " + QuoteLiteral(ValidUtf8(p)) +
               " AND (j.value->>'first')::BIGINT < " + std::to_string(r.next) + " AND (j.value->>'next')::BIGINT > " +
               std::to_string(r.first) + ")";
    first = false;
  }
  overlap += first ? "false)" : ")";
  auto overlapping = db_->Query(overlap);
  if (!overlapping.ok() || overlapping->Scalar() != "0") {
    (void)db_->Execute("ROLLBACK");
    if (!overlapping.ok()) return overlapping.status();
    return LoadOutcome::kStale;
  }
  Status st = LoadInTransaction(batch, landed_file, /*committed=*/nullptr);
  if (st.ok()) st = db_->Execute("COMMIT");
  if (st.ok()) Committed(batch);
  if (!st.ok()) {
    (void)db_->Execute("ROLLBACK");
    return st.WithContext("replaying batch " + batch.id);
  }
  return LoadOutcome::kLoaded;
}

Status DuckDbWarehouse::LoadInTransaction(const Batch& batch, const std::string& landed_file,
                                          const std::map<std::string, int64_t>* committed) {
  const StreamConfig& s = batch.stream();
  const std::string table = s.raw_table();
  auto cols_it = raw_columns_.find(table);
  if (cols_it == raw_columns_.end()) return Status::Internal("raw table " + table + " was not prepared");

  // Rows go in event order so DuckDB's zone maps prune by time (DESIGN.md semantics 3).
  std::vector<uint32_t> order(batch.rows());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return batch.event_time(a) < batch.event_time(b); });
  std::vector<int32_t> event_dates(batch.rows());
  for (size_t i = 0; i < batch.rows(); ++i) event_dates[i] = DayOf(batch.event_time(i));

  const uint64_t key = batch.key();
  const std::vector<uint32_t> part_ranks = batch.PartitionRanks();
  std::vector<AppendSource> sources;
  for (const auto& name : cols_it->second) {
    AppendSource src;
    int field = s.schema.IndexOf(name);
    if (field >= 0)
      src.column = &batch.columns[field];
    else if (name == "event_date")
      src.dates = &event_dates;
    else if (name == "_extra")
      src.column = &batch.extra;
    else if (name == "_batch")
      src.key = &key;
    else if (name == "_partition_index")
      src.index = &batch.row_partition, src.numbers = &part_ranks;
    else if (name == "_offset")
      src.ints = &batch.row_offset;
    sources.push_back(src);  // a column whose field left the config stays, NULL from now on
  }
  if (batch.rows() > 0) RETURN_IF_ERROR(db_->Append(table, sources, order));

  if (!batch.dead_letters.empty()) {
    std::vector<std::vector<std::optional<std::string>>> rows;
    std::string received = FormatSqlTimestamp(batch.received_at_us);
    for (const auto& d : batch.dead_letters)
      rows.push_back({s.name, batch.source, ValidUtf8(d.partition), std::to_string(d.offset), received,
                      ValidUtf8(d.error), d.raw, std::to_string(d.raw_length), batch.id});
    RETURN_IF_ERROR(db_->AppendRows("_sluice_dead_letters", rows));
  }

  std::string now = TimestampLiteral(NowMicros());
  std::map<std::string, int64_t> next_offsets;  // by the name as stored (one statement may not touch a row twice)
  for (const auto& [p, r] : batch.ranges) next_offsets[ValidUtf8(p)] = r.next;
  auto row = [&](const std::string& partition, int64_t next) {
    return "(" + QuoteLiteral(batch.source) + ", " + QuoteLiteral(partition) + ", " + std::to_string(next) +
           "::BIGINT, " + QuoteLiteral(batch.id) + ", " + now + ")";
  };
  // One statement for the partitions that have a checkpoint and one for those that have none, whatever their
  // number: DuckDB plans every statement anew, and a Kafka batch over 16 partitions spent ~30 ms of the
  // loader's time on one upsert each. And no upsert: INSERT OR REPLACE of one row costs ~1.3 ms, an UPDATE
  // ~0.4 ms, and an HTTP loader commits ~80 batches a second.
  if (committed != nullptr) {
    std::string cases, names, inserts;
    for (const auto& [p, next] : next_offsets) {
      if (committed->count(p)) {
        cases += " WHEN " + QuoteLiteral(p) + " THEN " + std::to_string(next);
        names += (names.empty() ? "" : ", ") + QuoteLiteral(p);
      } else {
        inserts += (inserts.empty() ? "" : ", ") + row(p, next);
      }
    }
    if (!names.empty())
      RETURN_IF_ERROR(db_->Execute("UPDATE _sluice_checkpoints SET next_offset = CASE \"partition\"" + cases +
                                   " END, batch_id = " + QuoteLiteral(batch.id) + ", updated_at = " + now +
                                   " WHERE source = " + QuoteLiteral(batch.source) + " AND \"partition\" IN (" + names +
                                   ")"));
    if (!inserts.empty()) RETURN_IF_ERROR(db_->Execute("INSERT INTO _sluice_checkpoints VALUES " + inserts));
  } else if (!next_offsets.empty()) {
    // A replayed batch usually lies behind the live checkpoint; moving it back would re-read records.
    std::string rows;
    for (const auto& [p, next] : next_offsets) rows += (rows.empty() ? "" : ", ") + row(p, next);
    RETURN_IF_ERROR(db_->Execute("INSERT OR IGNORE INTO _sluice_checkpoints VALUES " + rows));
    RETURN_IF_ERROR(db_->Execute(
        "UPDATE _sluice_checkpoints c SET next_offset = v.next_offset, batch_id = v.batch_id, updated_at = "
        "v.updated_at FROM (VALUES " +
        rows +
        ") v(source, \"partition\", next_offset, batch_id, updated_at) WHERE c.source = v.source AND "
        "c.\"partition\" = v.\"partition\" AND c.next_offset < v.next_offset"));
  }
  const std::string partitions = PartitionsJson(batch);
  std::string hours = "[";
  for (int64_t h : batch.event_hours) hours += (hours.size() > 1 ? ", " : "") + TimestampLiteral(h);
  hours += "]::TIMESTAMP[]";
  std::string min_t = "NULL", max_t = "NULL";
  if (batch.rows() > 0) {
    min_t = TimestampLiteral(batch.event_time(order.front()));
    max_t = TimestampLiteral(batch.event_time(order.back()));
  }
  std::string part_names = "[";
  for (const auto& [p, r] : batch.ranges)
    part_names += (part_names.size() > 1 ? ", " : "") + QuoteLiteral(ValidUtf8(p));
  part_names += "]::VARCHAR[]";
  return db_->Execute(
      "INSERT INTO _sluice_batches (batch_id, seq, stream, source, partitions, file, rows, dead_rows, late_rows, "
      "event_hours, min_event_time, max_event_time, received_at, loaded_at, batch_key, part_names) VALUES (" +
      QuoteLiteral(batch.id) + ", nextval('_sluice_batch_seq'), " + QuoteLiteral(s.name) + ", " +
      QuoteLiteral(batch.source) + ", " + QuoteLiteral(partitions) + ", " + QuoteLiteral(landed_file) + ", " +
      std::to_string(batch.rows()) + ", " + std::to_string(batch.dead_letters.size()) + ", " +
      std::to_string(batch.late_rows) + ", " + hours + ", " + min_t + ", " + max_t + ", " +
      TimestampLiteral(batch.received_at_us) + ", " + now + ", " + std::to_string(batch.key()) + ", " + part_names +
      ")");
}

}  // namespace sluice
