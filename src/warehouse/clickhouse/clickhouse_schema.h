// ClickHouse DDL and types: how a stream's declared schema becomes a raw table, and sluice's system tables,
// with one server (MergeTree) or on a cluster (Replicated*MergeTree, DDL ON CLUSTER, a Distributed raw table
// over per-shard local tables). Everything here is ClickHouse 18.16 SQL that current releases accept too.
//
// Types (core/schema.h FieldType -> ClickHouse):
//   string, json -> String; int64 -> Int64; float64 -> Float64; bool -> UInt8; timestamp -> DateTime (whole
//   seconds, UTC: 18.16 has no DateTime64); date -> Date. A top-level scalar is Nullable (a field may be
//   absent), except the event-time field (DateTime, never null: it is the sort key).
//   struct -> Tuple(children) (a Tuple cannot be Nullable: a null struct is a tuple of nulls);
//   list<T> -> Array(T) (a null list is empty); a top-level list<struct> -> Nested(fields), i.e. one
//   Array column per field named `list.field` (18.16 flattens a top-level Array(Tuple) into such columns
//   anyway, unnamed; Nested keeps the names). Inside Tuple and Array, scalars are Nullable.
// Thread-safety: functions of their arguments; RawLayout is a value.
#pragma once

#include <string>
#include <vector>

#include "core/config.h"

namespace sluice {

// Where sluice's tables live.
struct ClickHouseTarget {
  std::string database;
  std::string cluster;  // empty: one server, plain MergeTree, no ON CLUSTER, no Distributed table
  bool clustered() const { return !cluster.empty(); }
};

// The ClickHouse type of a field at the top level of a raw table (see the header comment); a top-level
// list<struct> has no single type (it is Nested): use RawLayout.
std::string ClickHouseType(const FieldType& type, bool event_time = false);

// One physical column of a raw table and what fills it.
struct RawColumn {
  enum class Source {
    kField,
    kNestedField,
    kEventDate,
    kExtra,
    kBatchKey,        // _batch: Batch::key()
    kPartitionIndex,  // _partition_index: the row's partition's position in the ledger's part_names
    kOffset,
    kBatchId,    // before issue 13, raw stored _batch_id, _source and _partition on every row
    kSource,     // (a table made then keeps them)
    kPartition,  //
    kAbsent
  };
  std::string name;  // as in system.columns ("geo", "items.sku" for a Nested field)
  std::string type;  // as in system.columns
  Source source = Source::kAbsent;
  int field = -1;  // kField, kNestedField: index in the stream's schema
  int child = -1;  // kNestedField: index of the struct field inside the list's element
};

// The physical columns of `stream`'s raw table, in the order a new table has them: the declared fields,
// then event_date, _extra, _batch, _partition_index, _offset. `string_provenance`: the layout of a table made before
// issue 13, which has _batch_id, _source and _partition instead of _batch and _partition_index.
std::vector<RawColumn> RawColumnsFor(const StreamConfig& stream, bool string_provenance = false);

// The CREATE VIEW of `stream`'s origin view (StreamConfig::origin_view) over raw whose physical columns are
// `columns`: each of them, then _batch_id, _source, _partition and _landed_file from the ledger (for a table
// with string provenance, only _landed_file). Explicit columns: 18.16's `*` over a JOIN ... USING repeats the
// key, which a view refuses.
std::string OriginViewDdl(const ClickHouseTarget& t, const StreamConfig& stream, const std::vector<RawColumn>& columns,
                          bool string_provenance);
// The columns OriginViewDdl's view has, in order: a view whose system.columns differ is out of date.
std::vector<std::string> OriginViewColumns(const std::vector<RawColumn>& columns, bool string_provenance);

// Quotes an identifier with backticks (`partition`, `items.sku`).
std::string ChIdent(std::string_view name);
// A string literal: 'text' with \ and ' escaped.
std::string ChLiteral(std::string_view text);

// "`db`.`table`"
std::string ChTable(const ClickHouseTarget& t, std::string_view table);
// The table that holds a stream's rows on this server: raw_<stream> alone, raw_<stream>_local on a cluster
// (raw_<stream> is then the Distributed table over every shard's local table).
std::string LocalRawTable(const ClickHouseTarget& t, const StreamConfig& stream);

// " ON CLUSTER <cluster>", or "" on one server.
std::string OnClusterClause(const ClickHouseTarget& t);
// The engine of a table kept whole on every server (system tables, transform targets, keyed tables):
// `<family>MergeTree(<args>)` on one server; on a cluster Replicated<family>MergeTree whose ZooKeeper path is
// /clickhouse/tables/sluice_global/<db>/<zk_name> and whose replica name is "{shard}-{replica}" (one replica
// per server, whatever its shard). `family` is "" or "Replacing"; `args` the engine's own (a version column).
std::string GlobalEngine(const ClickHouseTarget& t, std::string_view zk_name, std::string_view family,
                         std::string_view args);

// Blocks ClickHouse remembers per replicated table for insert deduplication: a day of one-second batches,
// each touching a few event days. Every remembered block is a ZooKeeper node.
constexpr int kDedupWindowBlocks = 100'000;
constexpr int kDedupWindowSeconds = 7 * 86'400;

// A CREATE statement (IF NOT EXISTS) and what it creates: `table`, or the database when empty.
struct CreateDdl {
  std::string table;
  std::string sql;
};
// The statements that create the database and sluice's system tables, in order.
std::vector<CreateDdl> SystemTablesDdl(const ClickHouseTarget& t);
// A column added to a system table after its first release: a warehouse created before gets it at Open.
struct SystemColumn {
  std::string table;
  std::string name;
  std::string type;  // with its DEFAULT, so rows written before read as that
};
const std::vector<SystemColumn>& SystemColumnsAdded();
// ALTER TABLE ... ADD COLUMN for one missing system column.
std::string AddSystemColumnDdl(const ClickHouseTarget& t, const SystemColumn& c);
// The statements that create `stream`'s raw table (and on a cluster its Distributed table).
// `string_provenance`: the local tables are from before issue 13, so the Distributed table shards by
// cityHash64(_batch_id) as it did then (they have no _batch).
std::vector<CreateDdl> RawTableDdl(const ClickHouseTarget& t, const StreamConfig& stream,
                                   bool string_provenance = false);
// ALTER TABLE ... ADD COLUMN for one missing raw column (on the local and, on a cluster, the Distributed table).
std::vector<std::string> AddRawColumnDdl(const ClickHouseTarget& t, const StreamConfig& stream, const RawColumn& c);

}  // namespace sluice
