// Fields a declaration added inside an existing nested column (a struct, or the structs of a list), found by
// reading DuckDB's spelling of the column's type (duckdb_columns().data_type, e.g.
// `STRUCT("name" VARCHAR, size BIGINT)[]`). DuckDB adds such a field in place with
// `ALTER TABLE t ADD COLUMN col.element.field TYPE`; existing rows read it as NULL. Fields are only added,
// never dropped or retyped, like top-level columns.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "core/schema.h"
#include "core/status.h"

namespace sluice {

struct MissingNestedField {
  std::vector<std::string> path;  // e.g. {"assets", "element", "id"}: the column, "element" per list level
  FieldType type;                 // the declared type of the missing field
};

// The fields of `wanted` (the declaration of column `column`) that DuckDB's `existing` type lacks, outermost
// first (a missing struct is one entry, not one per field inside it). Invalid when `existing` does not parse.
Result<std::vector<MissingNestedField>> MissingNestedFields(const std::string& column, const std::string& existing,
                                                            const FieldType& wanted);

}  // namespace sluice
