// What the DuckDB adapter's files share (duckdb_adapter.cc, duckdb_readers.cc, duckdb_cells.cc): the database
// instance that the loader's connection and the readers' connections open on, result rendering, and the
// mapping of DuckDB errors to Status. Only those files include this header (and so duckdb.h).
#pragma once

#include <duckdb.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "warehouse/reader.h"

namespace sluice {

// One open DuckDB database; closed when the last connection's owner lets go of it.
struct DuckDbInstance {
  duckdb_database db = nullptr;
  ~DuckDbInstance() {
    if (db) duckdb_close(&db);
  }
};

// How one result column renders: its type, resolved once per result so each cell costs no catalog look-ups.
struct CellType {
  duckdb_type id = DUCKDB_TYPE_INVALID;
  bool json_alias = false;                     // VARCHAR holding JSON text: embedded as is inside JSON
  uint8_t width = 0, scale = 0;                // DECIMAL
  duckdb_type internal = DUCKDB_TYPE_INVALID;  // DECIMAL and ENUM storage
  uint64_t array_size = 0;                     // ARRAY
  std::vector<std::string> names;              // STRUCT field names; ENUM dictionary
  std::vector<CellType> children;              // LIST/ARRAY element; STRUCT fields; MAP key and value
};
CellType ResolveCellType(duckdb_logical_type type);
// The type's name as shown to users (BIGINT, TIMESTAMP, JSON, LIST, STRUCT, ...).
std::string CellTypeName(const CellType& type);

// Row `row` of `vec` as text, nullopt for NULL. Scalars read as DuckDB's own cast to VARCHAR does; lists,
// arrays, structs and maps as JSON (nested NULLs as null, numbers unquoted, other values as strings).
std::optional<std::string> CellText(duckdb_vector vec, const CellType& type, uint64_t row);

// A DuckDB error as a Status that says what to do: a write conflict is Retry, an I/O or out-of-memory
// failure Io, an interrupt Cancelled; what the statement itself got wrong (syntax, catalog, permission, a
// write in a read-only transaction) is Invalid.
Status StatusFromDuckDb(duckdb_error_type type, const char* message);

// A pool of `connections` reader connections on `instance`.
Result<std::shared_ptr<Readers>> MakeDuckDbReaders(std::shared_ptr<DuckDbInstance> instance, size_t connections);

}  // namespace sluice
