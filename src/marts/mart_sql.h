// The PostgreSQL side of a mart, in one place: the statements a refresh runs, the mapping from warehouse
// column types to PostgreSQL types, and the COPY text encoding of warehouse cells.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "marts/mart_config.h"

namespace sluice {

// The ledger of loads, one per PostgreSQL schema holding marts: (mart, through_seq, definition) is a load's
// identity, so recording the same load twice inserts nothing (ON CONFLICT DO NOTHING).
inline constexpr const char* kMartLoadsTable = "_sluice_mart_loads";

// The PostgreSQL column type for a warehouse column type as QueryResult names it (DuckDB: BIGINT, DOUBLE,
// VARCHAR, TIMESTAMP, LIST, STRUCT...; ClickHouse: Int64, Nullable(Float64), DateTime64(6, 'UTC')...):
// BIGINT, NUMERIC, DOUBLE PRECISION, BOOLEAN, DATE, TIMESTAMPTZ, INTERVAL, JSONB for nested values, TEXT
// otherwise.
std::string PgTypeFor(const std::string& warehouse_type);

// "schema"."table"
std::string MartTableSql(const MartConfig& mart);
std::string MartLoadsTableSql(const MartConfig& mart);

// Takes the mart's transaction-scoped advisory lock, so two refreshers of one mart run one after the other.
std::string LockMartSql(const MartConfig& mart);
// CREATE SCHEMA / TABLE IF NOT EXISTS for the ledger.
std::string CreateLoadsSql(const MartConfig& mart);
// The newest load of the mart: (through_seq, definition); $1 = mart name.
std::string LastLoadSql(const MartConfig& mart);
// Records a load: $1 mart, $2 through_seq, $3 definition, $4 full (true/false), $5 buckets, $6 rows.
std::string RecordLoadSql(const MartConfig& mart);
// The mart table with `columns` (name, PostgreSQL type), and an index on its bucket column if it has one.
std::string CreateMartSql(const MartConfig& mart, const std::vector<std::pair<std::string, std::string>>& columns);
// The mart's existing columns: $1 schema, $2 table.
std::string MartColumnsSql();
std::string AddColumnSql(const MartConfig& mart, const std::string& column, const std::string& pg_type);
// A temporary stage shaped like the mart, dropped at commit.
std::string CreateStageSql(const MartConfig& mart);
std::string CopyStageSql(const MartConfig& mart, const std::vector<std::string>& columns);
// Deletes the rows of the buckets in $1 (a timestamptz[] literal, BucketArray), or every row when `all`.
std::string DeleteBucketsSql(const MartConfig& mart, bool all);
std::string InsertFromStageSql(const MartConfig& mart, const std::vector<std::string>& columns);

// `buckets` (micros) as a PostgreSQL timestamptz[] text literal: {"2024-05-01 10:00:00+00",...}.
std::string BucketArray(const std::set<int64_t>& buckets);

// Appends one row in COPY's text format: cells separated by tabs, NULL as \N, backslash, tab, newline and
// carriage return escaped. `pg_types[i]` is cell i's column type: a JSONB cell that is not JSON text (an
// engine's own rendering of a nested value) is stored as a JSON string rather than refused.
void AppendCopyRow(const std::vector<std::optional<std::string>>& row, const std::vector<std::string>& pg_types,
                   std::string& out);

// A short stable digest of a target's definition (FNV-1a, hex): a different one means rebuilt.
std::string DefinitionDigest(const std::string& definition);

}  // namespace sluice
