// ClickHouseWarehouse: what transforms need (README.md "Transforms").
//
// A target (rollup or model) is a MergeTree table PARTITION BY toDate(<bucket column>), on a cluster one
// ReplicatedMergeTree kept whole on every server (computed from the Distributed raw tables, which read every
// shard). Its rows change by whole day partitions: the recompute goes into a local staging table of the same
// structure, and `ALTER TABLE t REPLACE PARTITION ID ... FROM staging` swaps each day in atomically (and
// replicates). The cursor row is written after the data, so a crash in between only leaves idempotent work
// for the next run.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>

#include "core/time.h"
#include "warehouse/clickhouse/clickhouse_dialect.h"
#include "warehouse/clickhouse/clickhouse_rows.h"
#include "warehouse/clickhouse/clickhouse_warehouse.h"

#include <optional>

namespace sluice {
namespace {

const ClickHouseDialect& Dialect() {
  static const ClickHouseDialect kDialect;
  return kDialect;
}

// A stable digest of a view's SQL (FNV-1a), kept in the view so an unchanged view is not recreated.
std::string Digest(const std::string& text) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ULL;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string Seconds(int64_t micros) { return std::to_string(micros / kMicrosPerSecond); }

}  // namespace

const SqlDialect& ClickHouseWarehouse::dialect() const { return Dialect(); }

// ---- Cursor table and views ----

Status ClickHouseWarehouse::CreateOrReplaceView(const std::string& name, const std::string& select) {
  // 18.16 has no CREATE OR REPLACE VIEW. The digest literal survives in create_table_query, so a view whose
  // SQL did not change is left alone (on a cluster each DDL is a round trip through the DDL queue).
  const std::string tag = "sluice:" + Digest(select);
  const ClickHouseTarget& t = options_.target;
  auto current = [&]() -> Result<std::optional<bool>> {  // nullopt: no such view; else whether it is this SQL
    ASSIGN_OR_RETURN(auto have, client_->Query("SELECT position(create_table_query, " + ChLiteral(tag) +
                                               ") > 0 FROM system.tables WHERE database = " + ChLiteral(t.database) +
                                               " AND name = " + ChLiteral(name)));
    if (have.rows.empty()) return std::optional<bool>();
    return std::optional<bool>(have.Scalar() == "1");
  };
  ASSIGN_OR_RETURN(auto have, current());
  if (have && *have) return Status::Ok();
  if (have) RETURN_IF_ERROR(client_->Execute("DROP TABLE IF EXISTS " + ChTable(t, name) + OnClusterClause(t)));
  Status created = client_->Execute("CREATE VIEW " + ChTable(t, name) + OnClusterClause(t) + " AS SELECT * FROM (" +
                                    select + ") WHERE " + ChLiteral(tag) + " != ''");
  if (created.ok()) return created;
  // Several workers start at once: another one may have just created the same view.
  ASSIGN_OR_RETURN(auto now, current());
  return now && *now ? Status::Ok() : created;
}

Status ClickHouseWarehouse::PrepareTransforms(const Config& config) {
  const ClickHouseTarget& t = options_.target;
  RETURN_IF_ERROR(CreateMissing(
      *client_,
      {{"_sluice_transform_cursor",
        "CREATE TABLE IF NOT EXISTS " + ChTable(t, "_sluice_transform_cursor") + OnClusterClause(t) +
            " (target String, last_seq Int64, definition String, window_batches UInt64, updated_at DateTime, "
            "version UInt64) ENGINE = " +
            GlobalEngine(t, "_sluice_transform_cursor", "Replacing", "version") + " ORDER BY target"}})
                      .WithContext("creating the transform cursor"));
  // Stages a crashed writer left behind: their writer ids died with it. A writer of another process still
  // computing at this moment loses its stage, fails that step and redoes it on its next run.
  ASSIGN_OR_RETURN(auto stages,
                   client_->Query("SELECT name FROM system.tables WHERE database = " + ChLiteral(t.database) +
                                  " AND substring(name, 1, 14) = " + ChLiteral(ClickHouseDialect::StagingTable(""))));
  for (const auto& row : stages.rows)
    RETURN_IF_ERROR(client_->Execute("DROP TABLE IF EXISTS " + ChTable(t, row[0].value_or(""))));
  if (config.streams.empty()) return Status::Ok();
  // No JOIN (18.16 fills a LEFT JOIN's misses with defaults, not NULL): one SELECT per stream, with scalar
  // subqueries over the ledger. Table names are qualified: a view's tables would otherwise resolve in the
  // reader's current database.
  const std::string ledger = ChTable(t, "_sluice_batches");
  std::string watermarks, hours;
  for (const auto& s : config.streams) {
    const std::string name = ChLiteral(s.name);
    watermarks += std::string(watermarks.empty() ? "" : " UNION ALL ") + "SELECT " + name +
                  " AS stream, toDateTime(intDiv((SELECT max(max_event_us) FROM " + ledger + " WHERE stream = " + name +
                  "), 1000000), 'UTC') AS max_event_time, max_event_time - " + Seconds(s.allowed_lateness_us) +
                  " AS watermark, (SELECT toInt64(sum(late_rows)) FROM " + ledger + " FINAL WHERE stream = " + name +
                  ") AS late_rows";
    hours += std::string(hours.empty() ? "" : " UNION ALL ") + "SELECT " + name +
             " AS stream, hour, `rows`, ifNull(hour + 3600 <= (SELECT watermark FROM " +
             ChTable(t, "_sluice_watermarks") + " WHERE stream = " + name + "), 0) AS final FROM (SELECT " +
             Dialect().TimeBucket("hour", ChIdent(s.event_time_field().name)) + " AS hour, count() AS `rows` FROM " +
             ChTable(t, s.raw_table()) + " GROUP BY hour)";
  }
  RETURN_IF_ERROR(CreateOrReplaceView("_sluice_watermarks", watermarks).WithContext("creating _sluice_watermarks"));
  return CreateOrReplaceView("_sluice_hours", hours).WithContext("creating _sluice_hours");
}

// ---- Ledger and cursors ----

Result<int64_t> ClickHouseWarehouse::LedgerHead() {
  ASSIGN_OR_RETURN(auto r, client_->Query("SELECT max(seq) FROM _sluice_batches"));
  const int64_t head = std::stoll(r.Scalar().empty() ? "0" : r.Scalar());
  // Counted after the head was read, and before any TouchedHours of the run: every batch counted here is
  // visible to the run, so a later, larger count means a batch the run did not absorb.
  ASSIGN_OR_RETURN(auto w, client_->Query("SELECT uniqExact(batch_id) FROM _sluice_batches WHERE seq > " +
                                          std::to_string(head - kLateLedgerWindowMicros) +
                                          " AND seq <= " + std::to_string(head)));
  snapshot_head_ = head;
  snapshot_window_batches_ = std::stoull(w.Scalar().empty() ? "0" : w.Scalar());
  return head;
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
    if (row[0]) hours.insert(std::stoll(*row[0]) * kMicrosPerSecond);
  return hours;
}

Result<std::map<std::string, TransformCursor>> ClickHouseWarehouse::TransformCursors() {
  ASSIGN_OR_RETURN(auto r, client_->Query("SELECT target, last_seq, definition, window_batches FROM "
                                          "_sluice_transform_cursor FINAL"));
  std::map<int64_t, uint64_t> window_now;  // by last_seq: batches in its window today
  std::map<std::string, TransformCursor> out;
  for (const auto& row : r.rows) {
    const int64_t last = std::stoll(row[1].value_or("0"));
    const uint64_t then = std::stoull(row[3].value_or("0"));
    if (!window_now.count(last)) {
      ASSIGN_OR_RETURN(auto n, client_->Query("SELECT uniqExact(batch_id) FROM _sluice_batches WHERE seq > " +
                                              std::to_string(last - kLateLedgerWindowMicros) +
                                              " AND seq <= " + std::to_string(last)));
      window_now[last] = std::stoull(n.Scalar().empty() ? "0" : n.Scalar());
    }
    int64_t cursor = last;
    if (window_now[last] > then) {
      // A ledger row with a seq the cursor passed became visible after that run read the ledger.
      cursor = std::max<int64_t>(0, last - kLateLedgerWindowMicros);
      spdlog::info("transform cursor of {}: {} batch(es) in its last {} s of ledger arrived late; re-absorbing them",
                   row[0].value_or(""), window_now[last] - then, kLateLedgerWindowMicros / kMicrosPerSecond);
    }
    out[row[0].value_or("")] = {cursor, row[2].value_or("")};
  }
  return out;
}

Result<bool> ClickHouseWarehouse::HasTable(const std::string& name) {
  ASSIGN_OR_RETURN(auto r, client_->Query("SELECT count() FROM system.tables WHERE database = " +
                                          ChLiteral(options_.target.database) + " AND name = " + ChLiteral(name)));
  return r.Scalar() != "0";
}

// ---- Writing targets ----

Result<std::vector<std::pair<std::string, std::string>>> ClickHouseWarehouse::TableColumns(const std::string& table) {
  ASSIGN_OR_RETURN(auto r, client_->Query("SELECT name, type FROM system.columns WHERE database = " +
                                          ChLiteral(options_.target.database) + " AND table = " + ChLiteral(table)));
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& row : r.rows) out.emplace_back(row[0].value_or(""), row[1].value_or(""));
  return out;
}

Result<std::set<std::string>> ClickHouseWarehouse::PartitionIds(const std::string& table) {
  ASSIGN_OR_RETURN(auto r, client_->Query("SELECT DISTINCT partition_id FROM system.parts WHERE active AND database = " +
                                          ChLiteral(options_.target.database) + " AND table = " + ChLiteral(table)));
  std::set<std::string> out;
  for (const auto& row : r.rows) out.insert(row[0].value_or(""));
  return out;
}

Status ClickHouseWarehouse::RebuildTarget(const TargetWrite& w) {
  const ClickHouseDialect& d = Dialect();
  const ClickHouseTarget& t = options_.target;
  const std::string stage = ClickHouseDialect::StagingTable(w.table, writer_id_);
  for (const auto& sql : d.StageSql(stage, w.table, w.bucket_column, w.select_sql, false)) {
    Status st = client_->Execute(sql);
    if (!st.ok() && st.message().find("nullable") != std::string::npos)
      return st.WithContext("the time column " + w.bucket_column + " of " + w.table +
                            " must not be Nullable on ClickHouse (it is the partition key; wrap it in assumeNotNull)");
    RETURN_IF_ERROR(st.WithContext("computing " + w.table + " into " + stage));
  }
  ASSIGN_OR_RETURN(auto staged, TableColumns(stage));
  ASSIGN_OR_RETURN(auto current, TableColumns(w.table));
  ASSIGN_OR_RETURN(auto stage_ids, PartitionIds(stage));
  // The rows are computed; nothing readers see has changed yet. A stale owner stops here.
  RETURN_IF_ERROR(FenceOrDropStage(w, stage));
  if (!current.empty() && current == staged) {
    // Same columns: swap partitions in place, so readers always have the table.
    ASSIGN_OR_RETURN(auto ids, PartitionIds(w.table));
    ids.insert(stage_ids.begin(), stage_ids.end());
    const std::string keep_from =
        w.kind == TargetWrite::Kind::kRebuildFrom ? ClickHouseDialect::PartitionId(DayOf(w.keep_before_us)) : "";
    for (const auto& id : ids) {
      if (id < keep_from) continue;  // older days are kept (retention cut their raw rows)
      RETURN_IF_ERROR(client_->Execute("ALTER TABLE " + d.Ident(w.table) + " REPLACE PARTITION ID " + ChLiteral(id) +
                                       " FROM " + d.Ident(stage)));
    }
  } else {
    if (w.kind == TargetWrite::Kind::kRebuildFrom)
      return Status::Invalid("the columns of " + w.table +
                             " changed: it cannot keep its older buckets (transform with --full-refresh)");
    // A new table, or new columns: build beside it (on every server), then rename it in. 18.16 renames the
    // pairs of one RENAME one after the other (no EXCHANGE TABLES before Atomic databases), so readers may
    // miss the table for that instant.
    const std::string build = "_sluice_build_" + w.table, old = "_sluice_old_" + w.table;
    for (const auto& leftover : {build, old}) {
      ASSIGN_OR_RETURN(auto cols, TableColumns(leftover));
      if (!cols.empty())
        RETURN_IF_ERROR(client_->Execute("DROP TABLE IF EXISTS " + ChTable(t, leftover) + OnClusterClause(t)));
    }
    std::string columns;
    for (const auto& [name, type] : staged) columns += (columns.empty() ? "" : ", ") + ChIdent(name) + " " + type;
    RETURN_IF_ERROR(client_->Execute(
        "CREATE TABLE " + ChTable(t, build) + OnClusterClause(t) + " (" + columns + ") ENGINE = " +
        GlobalEngine(t, w.table + "_" + std::to_string(NextVersion()), "", "") + " PARTITION BY " +
        d.PartitionBy(w.bucket_column) + " ORDER BY " + d.OrderBy(w.bucket_column)));
    for (const auto& id : stage_ids)
      RETURN_IF_ERROR(client_->Execute("ALTER TABLE " + ChTable(t, build) + " REPLACE PARTITION ID " + ChLiteral(id) +
                                       " FROM " + ChTable(t, stage)));
    if (current.empty()) {
      RETURN_IF_ERROR(
          client_->Execute("RENAME TABLE " + ChTable(t, build) + " TO " + ChTable(t, w.table) + OnClusterClause(t)));
    } else {
      RETURN_IF_ERROR(client_->Execute("RENAME TABLE " + ChTable(t, w.table) + " TO " + ChTable(t, old) + ", " +
                                       ChTable(t, build) + " TO " + ChTable(t, w.table) + OnClusterClause(t)));
      RETURN_IF_ERROR(client_->Execute("DROP TABLE IF EXISTS " + ChTable(t, old) + OnClusterClause(t)));
    }
  }
  return client_->Execute("DROP TABLE IF EXISTS " + d.Ident(stage));
}

Status ClickHouseWarehouse::FenceOrDropStage(const TargetWrite& w, const std::string& stage) {
  if (!w.fence) return Status::Ok();
  Status fenced = w.fence();
  if (!fenced.ok()) (void)client_->Execute("DROP TABLE IF EXISTS " + Dialect().Ident(stage));  // ours alone
  return fenced;
}

Status ClickHouseWarehouse::WriteCursor(const TargetWrite& w) {
  std::string data;
  RowBinaryWriter out(data);
  const uint64_t version = NextVersion();
  out.String(w.table);
  out.Fixed<int64_t>(w.cursor_seq);
  out.String(w.definition);
  // The window count LedgerHead took for this head; 0 (re-absorb the window once) for any other seq.
  out.Fixed<uint64_t>(w.cursor_seq == snapshot_head_ ? snapshot_window_batches_ : 0);
  out.Fixed<uint32_t>(static_cast<uint32_t>(version / kMicrosPerSecond));
  out.Fixed<uint64_t>(version);
  return InsertWithRetries(
      "INSERT INTO _sluice_transform_cursor (target, last_seq, definition, window_batches, updated_at, version) "
      "FORMAT RowBinary",
      data, "", nullptr);
}

Status ClickHouseWarehouse::WriteTarget(const TargetWrite& w) {
  // Each kind fences (TargetWrite::fence) once its rows are staged, right before the first statement that
  // changes what readers see: computing is the long part, so a lease lost meanwhile is caught before it counts.
  switch (w.kind) {
    case TargetWrite::Kind::kCursorOnly:
      if (w.fence) RETURN_IF_ERROR(w.fence());
      break;
    case TargetWrite::Kind::kRebuild:
    case TargetWrite::Kind::kRebuildFrom:
      RETURN_IF_ERROR(RebuildTarget(w).WithContext("rebuilding " + w.table));
      break;
    case TargetWrite::Kind::kReplaceBuckets: {
      const std::string stage = ClickHouseDialect::StagingTable(w.table, writer_id_);
      ClickHouseDialect::StagedWrite steps = Dialect().ReplaceBucketsSql(w, stage);
      for (const auto& sql : steps.stage)
        RETURN_IF_ERROR(client_->Execute(sql).WithContext("recomputing days of " + w.table));
      RETURN_IF_ERROR(FenceOrDropStage(w, stage));
      for (const auto& sql : steps.swap)
        RETURN_IF_ERROR(client_->Execute(sql).WithContext("recomputing days of " + w.table));
      break;
    }
  }
  RETURN_IF_ERROR(Fault("cursor"));
  return WriteCursor(w).WithContext("cursor of " + w.table);
}

Status ClickHouseWarehouse::DropRawBefore(const StreamConfig& stream, int32_t day) {
  // Whole event days, as partitions (never ALTER ... DELETE); on a cluster on every shard.
  const ClickHouseTarget& t = options_.target;
  ASSIGN_OR_RETURN(auto r,
                   client_->Query("SELECT DISTINCT toString(event_date) FROM " + ChTable(t, stream.raw_table()) +
                                  " WHERE event_date < " + ChLiteral(FormatIsoDate(day))));
  for (const auto& row : r.rows)
    RETURN_IF_ERROR(client_->Execute("ALTER TABLE " + ChTable(t, LocalRawTable(t, stream)) + OnClusterClause(t) +
                                     " DROP PARTITION " + ChLiteral(row[0].value_or(""))));
  return Status::Ok();
}

}  // namespace sluice
