#include "warehouse/clickhouse/clickhouse_schema.h"

namespace sluice {
namespace {

std::string ScalarType(TypeKind kind) {
  switch (kind) {
    case TypeKind::kString:
    case TypeKind::kJson:
      return "String";
    case TypeKind::kInt64:
      return "Int64";
    case TypeKind::kFloat64:
      return "Float64";
    case TypeKind::kBool:
      return "UInt8";
    case TypeKind::kTimestamp:
      return "DateTime";
    case TypeKind::kDate:
      return "Date";
    default:
      return "";
  }
}

// A type inside a Tuple or an Array.
std::string InnerType(const FieldType& t) {
  if (t.kind == TypeKind::kStruct) {
    std::string out = "Tuple(";
    for (size_t i = 0; i < t.fields.size(); ++i) out += (i ? ", " : "") + InnerType(t.fields[i].type);
    return out + ")";
  }
  if (t.kind == TypeKind::kList) return "Array(" + InnerType(*t.element) + ")";
  return "Nullable(" + ScalarType(t.kind) + ")";
}

bool IsNestedList(const FieldType& t) { return t.kind == TypeKind::kList && t.element->kind == TypeKind::kStruct; }

// The column list of a CREATE TABLE for `stream`'s raw rows.
std::string RawColumnsDdl(const StreamConfig& s) {
  std::string ddl;
  for (size_t i = 0; i < s.schema.fields.size(); ++i) {
    const Field& f = s.schema.fields[i];
    ddl += ChIdent(f.name) + " ";
    if (IsNestedList(f.type)) {
      ddl += "Nested(";
      const auto& fields = f.type.element->fields;
      for (size_t c = 0; c < fields.size(); ++c)
        ddl += (c ? ", " : "") + ChIdent(fields[c].name) + " " + InnerType(fields[c].type);
      ddl += ")";
    } else {
      ddl += ClickHouseType(f.type, static_cast<int>(i) == s.schema.event_time);
    }
    ddl += ", ";
  }
  return ddl + "event_date Date, _extra Nullable(String), _batch UInt64, _partition_index UInt32, _offset Int64";
}

std::string OnCluster(const ClickHouseTarget& t) { return t.clustered() ? " ON CLUSTER " + t.cluster : ""; }

// The engine clause of a MergeTree-family table. `family` is "" or "Replacing"; `args` the engine's own
// arguments (a version column). Sharded tables have one replicated table per shard ({shard} in the path);
// the others are one table replicated to every server of the cluster (system tables, read anywhere), whose
// replica names must then be unique across shards.
std::string Engine(const ClickHouseTarget& t, std::string_view table, std::string_view family, std::string_view args,
                   bool sharded) {
  if (!t.clustered()) return std::string(family) + "MergeTree(" + std::string(args) + ")";
  std::string path = sharded ? "/clickhouse/tables/{shard}/" + t.database + "/" + std::string(table)
                             : "/clickhouse/tables/sluice_global/" + t.database + "/" + std::string(table);
  std::string replica = sharded ? "{replica}" : "{shard}-{replica}";
  return "Replicated" + std::string(family) + "MergeTree(" + ChLiteral(path) + ", " + ChLiteral(replica) +
         (args.empty() ? "" : ", " + std::string(args)) + ")";
}

std::string DedupSettings(const ClickHouseTarget& t) {
  if (!t.clustered()) return "";
  return " SETTINGS replicated_deduplication_window = " + std::to_string(kDedupWindowBlocks) +
         ", replicated_deduplication_window_seconds = " + std::to_string(kDedupWindowSeconds);
}

}  // namespace

std::string ClickHouseType(const FieldType& type, bool event_time) {
  if (event_time) return "DateTime";
  if (type.kind == TypeKind::kStruct || type.kind == TypeKind::kList) return InnerType(type);
  return "Nullable(" + ScalarType(type.kind) + ")";
}

std::vector<RawColumn> RawColumnsFor(const StreamConfig& s, bool string_provenance) {
  using Source = RawColumn::Source;
  std::vector<RawColumn> out;
  for (size_t i = 0; i < s.schema.fields.size(); ++i) {
    const Field& f = s.schema.fields[i];
    if (IsNestedList(f.type)) {
      const auto& fields = f.type.element->fields;
      for (size_t c = 0; c < fields.size(); ++c)
        out.push_back({f.name + "." + fields[c].name, "Array(" + InnerType(fields[c].type) + ")", Source::kNestedField,
                       static_cast<int>(i), static_cast<int>(c)});
    } else {
      out.push_back({f.name, ClickHouseType(f.type, static_cast<int>(i) == s.schema.event_time), Source::kField,
                     static_cast<int>(i)});
    }
  }
  out.push_back({"event_date", "Date", Source::kEventDate});
  out.push_back({"_extra", "Nullable(String)", Source::kExtra});
  if (string_provenance) {
    out.push_back({"_batch_id", "String", Source::kBatchId});
    out.push_back({"_source", "String", Source::kSource});
    out.push_back({"_partition", "String", Source::kPartition});
  } else {
    out.push_back({"_batch", "UInt64", Source::kBatchKey});
    out.push_back({"_partition_index", "UInt32", Source::kPartitionIndex});
  }
  out.push_back({"_offset", "Int64", Source::kOffset});
  return out;
}

std::vector<std::string> OriginViewColumns(const std::vector<RawColumn>& columns, bool string_provenance) {
  std::vector<std::string> out;
  for (const auto& c : columns) out.push_back(c.name);
  if (!string_provenance)
    for (const char* c : {"_batch_id", "_source", "_partition"}) out.push_back(c);
  out.push_back("_landed_file");
  return out;
}

std::string OriginViewDdl(const ClickHouseTarget& t, const StreamConfig& s, const std::vector<RawColumn>& columns,
                          bool string_provenance) {
  std::string select;
  for (const auto& c : columns) select += ChIdent(c.name) + ", ";
  std::string ledger;
  if (string_provenance) {
    select += "_landed_file";
    ledger = "(SELECT batch_id AS _batch_id, any(file) AS _landed_file FROM " + ChTable(t, "_sluice_batches") +
             " GROUP BY batch_id) USING _batch_id";
  } else {
    select += "_batch_id, _source, _part_names[_partition_index + 1] AS _partition, _landed_file";
    ledger =
        "(SELECT batch_key AS _batch, any(batch_id) AS _batch_id, any(source) AS _source, any(part_names) AS "
        "_part_names, any(file) AS _landed_file FROM " +
        ChTable(t, "_sluice_batches") + " WHERE batch_key != 0 GROUP BY batch_key) USING _batch";
  }
  // A retried ledger row appears twice until merged: GROUP BY keeps one. The ledger is whole on every server,
  // so each shard joins its own rows locally.
  return "CREATE VIEW " + ChTable(t, s.origin_view()) + OnCluster(t) + " AS SELECT " + select + " FROM " +
         ChTable(t, s.raw_table()) + " ANY LEFT JOIN " + ledger;
}

std::string ChIdent(std::string_view name) {
  std::string out = "`";
  for (char c : name) {
    if (c == '`' || c == '\\') out += '\\';
    out += c;
  }
  return out + "`";
}

std::string ChLiteral(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string ChTable(const ClickHouseTarget& t, std::string_view table) {
  return ChIdent(t.database) + "." + ChIdent(table);
}

std::string LocalRawTable(const ClickHouseTarget& t, const StreamConfig& stream) {
  return t.clustered() ? stream.raw_table() + "_local" : stream.raw_table();
}

std::string OnClusterClause(const ClickHouseTarget& t) { return OnCluster(t); }

std::string GlobalEngine(const ClickHouseTarget& t, std::string_view zk_name, std::string_view family,
                         std::string_view args) {
  return Engine(t, zk_name, family, args, false);
}

std::vector<CreateDdl> SystemTablesDdl(const ClickHouseTarget& t) {
  const std::string create = "CREATE TABLE IF NOT EXISTS ";
  auto table = [&](std::string_view name) { return ChTable(t, name) + OnCluster(t); };
  return {
      {"", "CREATE DATABASE IF NOT EXISTS " + ChIdent(t.database) + OnCluster(t)},
      // The ledger: one row per loaded batch, carrying its checkpoints (per partition: first, next, records).
      // A batch's row may arrive twice (a retried load); FINAL keeps one. Checkpoints are the max `next`.
      {"_sluice_batches",
       create + table("_sluice_batches") +
           " (batch_id String, seq Int64, stream String, source String, part_names Array(String), "
           "part_first Array(Int64), part_next Array(Int64), part_records Array(Int64), file String, "
           "rows Int64, dead_rows Int64, late_rows Int64, event_hours Array(DateTime), "
           "min_event_us Nullable(Int64), max_event_us Nullable(Int64), received_at DateTime, "
           "loaded_at DateTime, version UInt64) ENGINE = " +
           Engine(t, "_sluice_batches", "Replacing", "version", false) +
           " PARTITION BY toYYYYMM(received_at) ORDER BY (stream, source, batch_id)"},
      {"_sluice_dead_letters",
       create + table("_sluice_dead_letters") +
           " (stream String, source String, `partition` String, `offset` Int64, received_at DateTime, "
           "error String, raw String, raw_length Int64, batch_id String) ENGINE = " +
           Engine(t, "_sluice_dead_letters", "", "", false) +
           " PARTITION BY toYYYYMM(received_at) ORDER BY (stream, source, batch_id, `partition`, `offset`)" +
           DedupSettings(t)},
      {"_sluice_runs",
       create + table("_sluice_runs") +
           " (run_id String, collector String, scheduled_us Int64, started_us Int64, ended_us Nullable(Int64), "
           "status String, rows Int64, error String, notes String DEFAULT '', version UInt64) ENGINE = " +
           Engine(t, "_sluice_runs", "Replacing", "version", false) + " ORDER BY run_id"},
      // Dropped entries are rows with deleted = 1 (a newer version), not mutations.
      {"_sluice_http_cache",
       create + table("_sluice_http_cache") +
           " (url String, etag String, headers String, body String, body_bytes Int64, fetched_at_us Int64, "
           "deleted UInt8, version UInt64) ENGINE = " +
           Engine(t, "_sluice_http_cache", "Replacing", "version", false) + " ORDER BY url"},
  };
}

std::vector<CreateDdl> RawTableDdl(const ClickHouseTarget& t, const StreamConfig& s, bool string_provenance) {
  const std::string local = LocalRawTable(t, s);
  const std::string order = ChIdent(s.event_time_field().name) + ", _batch, _partition_index, _offset";
  std::vector<CreateDdl> out = {{local, "CREATE TABLE IF NOT EXISTS " + ChTable(t, local) + OnCluster(t) + " (" +
                                            RawColumnsDdl(s) + ") ENGINE = " + Engine(t, local, "", "", true) +
                                            " PARTITION BY event_date ORDER BY (" + order + ")" + DedupSettings(t)}};
  if (t.clustered())
    // A batch goes to one shard, chosen by its key (a hash of its id): a re-sent batch reaches the same
    // shard, whose replicated table drops the blocks it already has.
    out.push_back({s.raw_table(), "CREATE TABLE IF NOT EXISTS " + ChTable(t, s.raw_table()) + OnCluster(t) + " AS " +
                                      ChTable(t, local) + " ENGINE = Distributed(" + t.cluster + ", " +
                                      ChIdent(t.database) + ", " + ChIdent(local) + ", " +
                                      (string_provenance ? "cityHash64(_batch_id)" : "_batch") + ")"});
  return out;
}

const std::vector<SystemColumn>& SystemColumnsAdded() {
  static const std::vector<SystemColumn> kAdded = {
      {"_sluice_runs", "notes", "String DEFAULT ''"},  // a run's notes (JSON text)
      {"_sluice_batches", "batch_key", "UInt64"},      // raw's _batch (0 for batches loaded before issue 13)
  };
  return kAdded;
}

std::string AddSystemColumnDdl(const ClickHouseTarget& t, const SystemColumn& c) {
  // System tables are one table replicated to every server: an ALTER reaches every replica through
  // ZooKeeper and needs no ON CLUSTER.
  return "ALTER TABLE " + ChTable(t, c.table) + " ADD COLUMN " + ChIdent(c.name) + " " + c.type;
}

std::vector<std::string> AddRawColumnDdl(const ClickHouseTarget& t, const StreamConfig& s, const RawColumn& c) {
  std::vector<std::string> out;
  auto add = [&](const std::string& table) {
    out.push_back("ALTER TABLE " + ChTable(t, table) + OnCluster(t) + " ADD COLUMN " + ChIdent(c.name) + " " + c.type);
  };
  add(LocalRawTable(t, s));
  if (t.clustered()) add(s.raw_table());
  return out;
}

}  // namespace sluice
