// DuckDb: the one owner of DuckDB's C API. Everything else in sluice talks to DuckDB through this class and
// never includes duckdb.h; DuckDB's states and error strings become Status here.
// Thread-safety: one connection; callers serialise (the loader thread owns it while `sluice run` runs). The
// readers it opens are thread-safe and independent of it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/column_builder.h"
#include "core/status.h"
#include "warehouse/query_result.h"
#include "warehouse/reader.h"

namespace sluice {

// Where one table column's values come from during a bulk append. Exactly one member is set, or none for
// an all-NULL column (a column kept after its field left the config).
struct AppendSource {
  const ColumnBuilder* column = nullptr;         // a parsed column, row-indexed
  const std::string* constant = nullptr;         // the same text on every row
  const std::vector<int64_t>* ints = nullptr;    // BIGINT per row
  const std::vector<int32_t>* dates = nullptr;   // DATE (days) per row
  const std::vector<uint32_t>* index = nullptr;  // per row: an index into `labels` (text) or `numbers`
  const std::vector<std::string>* labels = nullptr;
  const std::vector<uint32_t>* numbers = nullptr;  // UINTEGER
  const uint64_t* key = nullptr;                   // UBIGINT, the same on every row
};

class DuckDb {
 public:
  // Opens (creating if needed) the database file; ":memory:" for an in-memory one. `settings` are DuckDB
  // configuration options (name, value). A database opens locked down: no file or network access from SQL, no
  // extensions, and a locked configuration (so `settings` are the last word on configuration). Only a
  // benchmark's baseline, which times DuckDB's own read_json, opens one with `lock_down` false.
  static Result<std::unique_ptr<DuckDb>> Open(const std::string& path,
                                              const std::vector<std::pair<std::string, std::string>>& settings = {},
                                              bool lock_down = true);
  ~DuckDb();
  DuckDb(const DuckDb&) = delete;
  DuckDb& operator=(const DuckDb&) = delete;

  // A pool of `connections` reader connections on this database (reader.h); they keep the database open
  // while they live.
  Result<std::shared_ptr<Readers>> OpenReaders(size_t connections);

  Status Execute(std::string_view sql);
  Result<QueryResult> Query(std::string_view sql);

  // Bulk-appends `rows` rows to `table` through DuckDB data chunks: row k of the table gets source row
  // order[k]. `sources` has one entry per table column, in table order. Runs inside the caller's open
  // transaction, so the rows commit or roll back with it.
  Status Append(const std::string& table, const std::vector<AppendSource>& sources, const std::vector<uint32_t>& order);

  // Appends rows of text/integer/blob cells one by one: for small side tables (dead letters). Each row has one
  // cell per column; a cell is a string (VARCHAR/JSON/BLOB/TIMESTAMP text) or null.
  Status AppendRows(const std::string& table, const std::vector<std::vector<std::optional<std::string>>>& rows);

 private:
  struct Impl;
  explicit DuckDb(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice
