#include "warehouse/duckdb/duckdb_adapter.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

#include "warehouse/duckdb/duckdb_internal.h"

namespace sluice {

namespace {

// One bulk append in flight: what sluice_rows() hands to DuckDB's insert threads.
struct RowsJob {
  uint64_t id = 0;
  const std::vector<AppendSource>* sources = nullptr;
  const std::vector<uint32_t>* order = nullptr;  // row k of the insert is source row order[k]
  std::vector<std::string> names;
  std::vector<duckdb_logical_type> types;
  ~RowsJob() {
    for (auto& t : types) duckdb_destroy_logical_type(&t);
  }
};

}  // namespace

struct DuckDb::Impl {
  std::shared_ptr<DuckDbInstance> instance;  // shared with the readers' connections
  duckdb_connection conn = nullptr;
  std::atomic<RowsJob*> job{nullptr};
  uint64_t last_job_id = 0;
  bool rows_registered = false;

  // Registers sluice_rows(job_id) on this connection, once. The id guards against another connection's
  // query reaching a batch it does not own.
  Status RegisterRowsFunction();
  Status ExecuteSharingCores(const std::string& sql);

  ~Impl() {
    if (conn) duckdb_disconnect(&conn);
  }
};

namespace {

// RAII for a duckdb_result.
struct ResultGuard {
  duckdb_result r;
  ~ResultGuard() { duckdb_destroy_result(&r); }
};

// Writes builder rows `rows` into positions 0..rows.size()-1 of `vec`, recursing into structs and lists.
void WriteColumn(duckdb_vector vec, duckdb_logical_type type, const ColumnBuilder& col,
                 const std::vector<uint64_t>& rows) {
  duckdb_type id = duckdb_get_type_id(type);
  size_t n = rows.size();
  bool any_null = false;
  for (size_t k = 0; k < n && !any_null; ++k) any_null = !col.valid(rows[k]);
  uint64_t* validity = nullptr;
  if (any_null) {
    duckdb_vector_ensure_validity_writable(vec);
    validity = duckdb_vector_get_validity(vec);
    for (size_t k = 0; k < n; ++k)
      if (!col.valid(rows[k])) duckdb_validity_set_row_invalid(validity, k);
  }
  switch (id) {
    case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_TIMESTAMP: {
      auto* out = static_cast<int64_t*>(duckdb_vector_get_data(vec));
      for (size_t k = 0; k < n; ++k) out[k] = col.int_at(rows[k]);
      break;
    }
    case DUCKDB_TYPE_DATE: {
      auto* out = static_cast<int32_t*>(duckdb_vector_get_data(vec));
      for (size_t k = 0; k < n; ++k) out[k] = static_cast<int32_t>(col.int_at(rows[k]));
      break;
    }
    case DUCKDB_TYPE_BOOLEAN: {
      auto* out = static_cast<bool*>(duckdb_vector_get_data(vec));
      for (size_t k = 0; k < n; ++k) out[k] = col.int_at(rows[k]) != 0;
      break;
    }
    case DUCKDB_TYPE_DOUBLE: {
      auto* out = static_cast<double*>(duckdb_vector_get_data(vec));
      for (size_t k = 0; k < n; ++k) out[k] = col.double_at(rows[k]);
      break;
    }
    case DUCKDB_TYPE_VARCHAR: {
      for (size_t k = 0; k < n; ++k) {
        if (!col.valid(rows[k])) continue;
        std::string_view s = col.string_at(rows[k]);
        duckdb_vector_assign_string_element_len(vec, k, s.data(), s.size());
      }
      break;
    }
    case DUCKDB_TYPE_STRUCT: {
      idx_t children = duckdb_struct_type_child_count(type);
      for (idx_t c = 0; c < children; ++c) {
        duckdb_logical_type ct = duckdb_struct_type_child_type(type, c);
        WriteColumn(duckdb_struct_vector_get_child(vec, c), ct, col.children()[c], rows);
        duckdb_destroy_logical_type(&ct);
      }
      break;
    }
    case DUCKDB_TYPE_LIST: {
      auto* entries = static_cast<duckdb_list_entry*>(duckdb_vector_get_data(vec));
      std::vector<uint64_t> elems;
      uint64_t base = duckdb_list_vector_get_size(vec);
      for (size_t k = 0; k < n; ++k) {
        uint64_t b = col.valid(rows[k]) ? col.list_begin(rows[k]) : 0,
                 e = col.valid(rows[k]) ? col.list_end(rows[k]) : 0;
        entries[k].offset = base + elems.size();
        entries[k].length = e - b;
        for (uint64_t x = b; x < e; ++x) elems.push_back(x);
      }
      duckdb_list_vector_reserve(vec, base + elems.size());
      duckdb_list_vector_set_size(vec, base + elems.size());
      duckdb_logical_type et = duckdb_list_type_child_type(type);
      // The child vector is written from position `base`; with a fresh chunk base is 0.
      WriteColumn(duckdb_list_vector_get_child(vec), et, col.element(), elems);
      duckdb_destroy_logical_type(&et);
      break;
    }
    default:
      break;  // types sluice does not create; left NULL-free zeros
  }
}

void WriteSource(duckdb_vector vec, duckdb_logical_type type, const AppendSource& src,
                 const std::vector<uint64_t>& rows) {
  size_t n = rows.size();
  if (src.column) {
    WriteColumn(vec, type, *src.column, rows);
  } else if (src.constant) {
    duckdb_value value = duckdb_create_varchar_length(src.constant->data(), src.constant->size());
    duckdb_vector_reference_value(vec, value);  // a constant vector: one value, not n copies
    duckdb_destroy_value(&value);
  } else if (src.key) {
    duckdb_value value = duckdb_create_uint64(*src.key);
    duckdb_vector_reference_value(vec, value);
    duckdb_destroy_value(&value);
  } else if (src.numbers) {
    auto* out = static_cast<uint32_t*>(duckdb_vector_get_data(vec));
    for (size_t k = 0; k < n; ++k) out[k] = (*src.numbers)[(*src.index)[rows[k]]];
  } else if (src.ints) {
    auto* out = static_cast<int64_t*>(duckdb_vector_get_data(vec));
    for (size_t k = 0; k < n; ++k) out[k] = (*src.ints)[rows[k]];
  } else if (src.dates) {
    auto* out = static_cast<int32_t*>(duckdb_vector_get_data(vec));
    for (size_t k = 0; k < n; ++k) out[k] = (*src.dates)[rows[k]];
  } else if (src.index) {
    for (size_t k = 0; k < n; ++k) {
      const std::string& s = (*src.labels)[(*src.index)[rows[k]]];
      duckdb_vector_assign_string_element_len(vec, k, s.data(), s.size());
    }
  } else {
    duckdb_vector_ensure_validity_writable(vec);
    uint64_t* validity = duckdb_vector_get_validity(vec);
    for (size_t k = 0; k < n; ++k) duckdb_validity_set_row_invalid(validity, k);
  }
}

// sluice_rows(): DuckDB threads each claim a morsel of contiguous rows and fill chunks from it. A morsel is
// one DuckDB row group (122,880 rows, the default): a thread that inserts at least a full row group writes it
// to the file during the INSERT, compressed, in parallel; a thread with less hands its rows to the
// transaction, and they go through the WAL and a later single-threaded checkpoint.
constexpr size_t kMorselRows = 122'880;

struct RowsScan {
  std::atomic<size_t> next_morsel{0};
};

struct RowsCursor {
  size_t next = 0, end = 0;
  std::vector<uint64_t> rows;
};

void BindRows(duckdb_bind_info info) {
  auto* slot = static_cast<std::atomic<RowsJob*>*>(duckdb_bind_get_extra_info(info));
  duckdb_value param = duckdb_bind_get_parameter(info, 0);
  const auto id = static_cast<uint64_t>(duckdb_get_int64(param));
  duckdb_destroy_value(&param);
  RowsJob* job = slot->load();
  if (!job || job->id != id) {
    duckdb_bind_set_error(info, "sluice_rows: no batch is being appended under this id");
    return;
  }
  for (size_t c = 0; c < job->names.size(); ++c)
    duckdb_bind_add_result_column(info, job->names[c].c_str(), job->types[c]);
  duckdb_bind_set_bind_data(info, job, nullptr);
  duckdb_bind_set_cardinality(info, job->order->size(), true);
}

void InitRows(duckdb_init_info info) {
  auto* job = static_cast<RowsJob*>(duckdb_init_get_bind_data(info));
  duckdb_init_set_init_data(info, new RowsScan, [](void* p) { delete static_cast<RowsScan*>(p); });
  const size_t morsels = (job->order->size() + kMorselRows - 1) / kMorselRows;
  duckdb_init_set_max_threads(info, std::max<size_t>(1, morsels));
}

void InitRowsCursor(duckdb_init_info info) {
  duckdb_init_set_init_data(info, new RowsCursor, [](void* p) { delete static_cast<RowsCursor*>(p); });
}

void ScanRows(duckdb_function_info info, duckdb_data_chunk output) {
  auto* job = static_cast<RowsJob*>(duckdb_function_get_bind_data(info));
  auto* scan = static_cast<RowsScan*>(duckdb_function_get_init_data(info));
  auto* cursor = static_cast<RowsCursor*>(duckdb_function_get_local_init_data(info));
  const std::vector<uint32_t>& order = *job->order;
  if (cursor->next >= cursor->end) {
    const size_t morsel = scan->next_morsel.fetch_add(1);
    cursor->next = std::min(order.size(), morsel * kMorselRows);
    cursor->end = std::min(order.size(), cursor->next + kMorselRows);
  }
  const size_t end = std::min<size_t>(cursor->end, cursor->next + duckdb_vector_size());
  cursor->rows.assign(order.begin() + cursor->next, order.begin() + end);
  for (size_t c = 0; c < job->types.size(); ++c)
    WriteSource(duckdb_data_chunk_get_vector(output, c), job->types[c], (*job->sources)[c], cursor->rows);
  duckdb_data_chunk_set_size(output, cursor->rows.size());
  cursor->next = end;
}

}  // namespace

DuckDb::DuckDb(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DuckDb::~DuckDb() = default;

// Settings every sluice database opens with. Sluice's own work needs no file or network access through SQL
// (rows arrive through sluice_rows(), landing is written by sluice), so the engine's guard is on for the
// whole instance: no reads or writes of files, no ATTACH of files, no extensions installed or loaded, and
// the configuration locked so no statement can turn any of it back on. Readers rely on this (reader.h).
constexpr std::pair<const char*, const char*> kLockedDownSettings[] = {
    {"enable_external_access", "false"},
    {"autoinstall_known_extensions", "false"},
    {"autoload_known_extensions", "false"},
    {"allow_community_extensions", "false"},
    // Parallel inserts interleave the insert threads' row groups (rows within each stay ordered); set here
    // because the locked configuration allows no SET afterwards.
    {"preserve_insertion_order", "false"},
};

Result<std::unique_ptr<DuckDb>> DuckDb::Open(const std::string& path,
                                             const std::vector<std::pair<std::string, std::string>>& settings,
                                             bool lock_down) {
  auto impl = std::make_unique<Impl>();
  impl->instance = std::make_shared<DuckDbInstance>();
  char* err = nullptr;
  duckdb_config config;
  duckdb_create_config(&config);
  Status st;
  auto set = [&](const char* name, const char* value) {
    if (st.ok() && duckdb_set_config(config, name, value) == DuckDBError)
      st = Status::Internal(std::string("DuckDB refused the setting ") + name + " = " + value);
  };
  if (lock_down)
    for (const auto& [name, value] : kLockedDownSettings) set(name, value);
  for (const auto& [name, value] : settings) set(name.c_str(), value.c_str());
  if (lock_down) set("lock_configuration", "true");
  if (st.ok() &&
      duckdb_open_ext(path == ":memory:" ? nullptr : path.c_str(), &impl->instance->db, config, &err) == DuckDBError) {
    st = Status::Io("cannot open DuckDB database '" + path + "': " + (err ? err : "unknown error"));
    duckdb_free(err);
  }
  duckdb_destroy_config(&config);
  RETURN_IF_ERROR(st);
  if (duckdb_connect(impl->instance->db, &impl->conn) == DuckDBError)
    return Status::Io("cannot connect to DuckDB '" + path + "'");
  return std::unique_ptr<DuckDb>(new DuckDb(std::move(impl)));
}

Result<std::shared_ptr<Readers>> DuckDb::OpenReaders(size_t connections) {
  return MakeDuckDbReaders(impl_->instance, connections);
}

Status DuckDb::Impl::RegisterRowsFunction() {
  if (rows_registered) return Status::Ok();
  duckdb_table_function fn = duckdb_create_table_function();
  duckdb_table_function_set_name(fn, "sluice_rows");
  duckdb_logical_type id_type = duckdb_create_logical_type(DUCKDB_TYPE_BIGINT);
  duckdb_table_function_add_parameter(fn, id_type);
  duckdb_destroy_logical_type(&id_type);
  duckdb_table_function_set_extra_info(fn, &job, nullptr);
  duckdb_table_function_set_bind(fn, BindRows);
  duckdb_table_function_set_init(fn, InitRows);
  duckdb_table_function_set_local_init(fn, InitRowsCursor);
  duckdb_table_function_set_function(fn, ScanRows);
  const bool ok = duckdb_register_table_function(conn, fn) == DuckDBSuccess;
  duckdb_destroy_table_function(&fn);
  if (!ok) return Status::Internal("cannot register the sluice_rows table function");
  rows_registered = true;
  return Status::Ok();
}

// Runs a statement whose work DuckDB spreads over its threads. duckdb_query() would have this thread spin
// on the task queue while a worker finishes the last task; on a 2-core machine that spinning takes the core
// the source thread needs, so this thread naps instead.
Status DuckDb::Impl::ExecuteSharingCores(const std::string& sql) {
  duckdb_prepared_statement stmt = nullptr;
  if (duckdb_prepare(conn, sql.c_str(), &stmt) == DuckDBError) {
    std::string msg = duckdb_prepare_error(stmt) ? duckdb_prepare_error(stmt) : "prepare failed";
    duckdb_destroy_prepare(&stmt);
    return Status::Invalid(msg);
  }
  duckdb_pending_result pending = nullptr;
  Status st;
  if (duckdb_pending_prepared(stmt, &pending) == DuckDBError) {
    st = Status::Invalid(duckdb_pending_error(pending) ? duckdb_pending_error(pending) : "execution failed");
  } else {
    duckdb_pending_state state;
    while (true) {
      const auto start = std::chrono::steady_clock::now();
      state = duckdb_pending_execute_task(pending);
      if (state == DUCKDB_PENDING_RESULT_READY || state == DUCKDB_PENDING_ERROR) break;
      // A call that came back at once found nothing to do: a worker holds the last task.
      if (state == DUCKDB_PENDING_NO_TASKS_AVAILABLE ||
          std::chrono::steady_clock::now() - start < std::chrono::microseconds(20))
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    // On an error state too: the result then carries the error with its type, which says what to do.
    ResultGuard g;
    if (duckdb_execute_pending(pending, &g.r) == DuckDBError) {
      const char* e = duckdb_result_error(&g.r);
      if (!e) e = duckdb_pending_error(pending);
      st = StatusFromDuckDb(duckdb_result_error_type(&g.r), e ? e : "execution failed");
    }
  }
  duckdb_destroy_pending(&pending);
  duckdb_destroy_prepare(&stmt);
  return st;
}

Status DuckDb::Execute(std::string_view sql) {
  ResultGuard g;
  std::string text(sql);
  if (duckdb_query(impl_->conn, text.c_str(), &g.r) == DuckDBError)
    return StatusFromDuckDb(duckdb_result_error_type(&g.r), duckdb_result_error(&g.r));
  return Status::Ok();
}

Result<QueryResult> DuckDb::Query(std::string_view sql) {
  ResultGuard g;
  std::string text(sql);
  if (duckdb_query(impl_->conn, text.c_str(), &g.r) == DuckDBError)
    return StatusFromDuckDb(duckdb_result_error_type(&g.r), duckdb_result_error(&g.r));
  QueryResult out;
  idx_t cols = duckdb_column_count(&g.r);
  for (idx_t c = 0; c < cols; ++c) {
    out.columns.push_back(duckdb_column_name(&g.r, c));
    duckdb_logical_type t = duckdb_column_logical_type(&g.r, c);
    char* tn = duckdb_logical_type_get_alias(t);
    if (!tn) {
      // No alias: render the type through DuckDB's own name.
      duckdb_type id = duckdb_get_type_id(t);
      static const std::pair<duckdb_type, const char*> kNames[] = {{DUCKDB_TYPE_BOOLEAN, "BOOLEAN"},
                                                                   {DUCKDB_TYPE_TINYINT, "TINYINT"},
                                                                   {DUCKDB_TYPE_SMALLINT, "SMALLINT"},
                                                                   {DUCKDB_TYPE_INTEGER, "INTEGER"},
                                                                   {DUCKDB_TYPE_BIGINT, "BIGINT"},
                                                                   {DUCKDB_TYPE_HUGEINT, "HUGEINT"},
                                                                   {DUCKDB_TYPE_UBIGINT, "UBIGINT"},
                                                                   {DUCKDB_TYPE_DOUBLE, "DOUBLE"},
                                                                   {DUCKDB_TYPE_FLOAT, "FLOAT"},
                                                                   {DUCKDB_TYPE_DECIMAL, "DECIMAL"},
                                                                   {DUCKDB_TYPE_VARCHAR, "VARCHAR"},
                                                                   {DUCKDB_TYPE_DATE, "DATE"},
                                                                   {DUCKDB_TYPE_TIMESTAMP, "TIMESTAMP"},
                                                                   {DUCKDB_TYPE_TIMESTAMP_TZ, "TIMESTAMPTZ"},
                                                                   {DUCKDB_TYPE_LIST, "LIST"},
                                                                   {DUCKDB_TYPE_STRUCT, "STRUCT"},
                                                                   {DUCKDB_TYPE_BLOB, "BLOB"},
                                                                   {DUCKDB_TYPE_INTERVAL, "INTERVAL"},
                                                                   {DUCKDB_TYPE_MAP, "MAP"}};
      std::string name = "OTHER";
      for (auto& [k, v] : kNames)
        if (k == id) name = v;
      out.types.push_back(name);
    } else {
      out.types.push_back(tn);
      duckdb_free(tn);
    }
    duckdb_destroy_logical_type(&t);
  }
  idx_t rows = duckdb_row_count(&g.r);
  out.rows.reserve(rows);
  // duckdb_value_varchar has no text for nested values (lists, structs, maps, arrays): a result holding one
  // is read from its vectors instead, every cell rendered as readers render it (nested values as JSON).
  // The two ways cannot be mixed on one result.
  std::vector<CellType> types;
  bool any_nested = false;
  for (idx_t c = 0; c < cols; ++c) {
    duckdb_logical_type t = duckdb_column_logical_type(&g.r, c);
    types.push_back(ResolveCellType(t));
    duckdb_destroy_logical_type(&t);
    const duckdb_type id = types.back().id;
    any_nested |=
        id == DUCKDB_TYPE_LIST || id == DUCKDB_TYPE_STRUCT || id == DUCKDB_TYPE_MAP || id == DUCKDB_TYPE_ARRAY;
  }
  if (any_nested) {
    while (duckdb_data_chunk chunk = duckdb_fetch_chunk(g.r)) {
      const idx_t size = duckdb_data_chunk_get_size(chunk);
      for (idx_t r = 0; r < size; ++r) {
        std::vector<std::optional<std::string>> row(cols);
        for (idx_t c = 0; c < cols; ++c) row[c] = CellText(duckdb_data_chunk_get_vector(chunk, c), types[c], r);
        out.rows.push_back(std::move(row));
      }
      duckdb_destroy_data_chunk(&chunk);
    }
    return out;
  }
  for (idx_t r = 0; r < rows; ++r) {
    std::vector<std::optional<std::string>> row(cols);
    for (idx_t c = 0; c < cols; ++c) {
      if (duckdb_value_is_null(&g.r, c, r)) continue;
      char* v = duckdb_value_varchar(&g.r, c, r);
      if (v) {
        row[c] = std::string(v);
        duckdb_free(v);
      }
    }
    out.rows.push_back(std::move(row));
  }
  return out;
}

// Bulk append as `INSERT INTO table SELECT * FROM sluice_rows(job)`: the batch is exposed to DuckDB as a
// table function, so DuckDB's own parallel insert writes it (both cores, compressed row groups written
// straight to the file) with one copy of each value instead of the appender's three. Threads claim
// contiguous morsels of the event-ordered rows, so each row group still covers a narrow time range.
Status DuckDb::Append(const std::string& table, const std::vector<AppendSource>& sources,
                      const std::vector<uint32_t>& order) {
  RowsJob job;
  job.id = ++impl_->last_job_id;
  job.sources = &sources;
  job.order = &order;
  {
    ResultGuard g;
    const std::string probe = "SELECT * FROM \"" + table + "\" LIMIT 0";
    if (duckdb_query(impl_->conn, probe.c_str(), &g.r) == DuckDBError)
      return StatusFromDuckDb(duckdb_result_error_type(&g.r), duckdb_result_error(&g.r))
          .WithContext("append to " + table);
    const idx_t cols = duckdb_column_count(&g.r);
    if (cols != sources.size())
      return Status::Internal("append to " + table + ": table has " + std::to_string(cols) + " columns, batch has " +
                              std::to_string(sources.size()));
    for (idx_t c = 0; c < cols; ++c) {
      job.names.emplace_back(duckdb_column_name(&g.r, c));
      job.types.push_back(duckdb_column_logical_type(&g.r, c));
    }
  }
  RETURN_IF_ERROR(impl_->RegisterRowsFunction());
  impl_->job.store(&job);
  // Parallel insert interleaves the threads' row groups (preserve_insertion_order is off for the database);
  // rows within each stay ordered.
  Status st = impl_
                  ->ExecuteSharingCores("INSERT INTO \"" + table + "\" SELECT * FROM sluice_rows(" +
                                        std::to_string(job.id) + ")")
                  .WithContext("append to " + table);
  impl_->job.store(nullptr);
  return st;
}

Status DuckDb::AppendRows(const std::string& table, const std::vector<std::vector<std::optional<std::string>>>& rows) {
  if (rows.empty()) return Status::Ok();
  duckdb_appender app;
  if (duckdb_appender_create(impl_->conn, nullptr, table.c_str(), &app) == DuckDBError) {
    duckdb_appender_destroy(&app);
    return Status::Invalid("cannot append to " + table);
  }
  idx_t cols = duckdb_appender_column_count(app);
  std::vector<duckdb_type> ids(cols);
  for (idx_t c = 0; c < cols; ++c) {
    duckdb_logical_type t = duckdb_appender_column_type(app, c);
    ids[c] = duckdb_get_type_id(t);
    duckdb_destroy_logical_type(&t);
  }
  Status st;
  for (const auto& row : rows) {
    for (idx_t c = 0; c < cols && st.ok(); ++c) {
      duckdb_state s;
      if (c >= row.size() || !row[c])
        s = duckdb_append_null(app);
      else if (ids[c] == DUCKDB_TYPE_BLOB)
        s = duckdb_append_blob(app, row[c]->data(), row[c]->size());
      else if (ids[c] == DUCKDB_TYPE_BIGINT)
        s = duckdb_append_int64(app, std::stoll(*row[c]));
      else
        s = duckdb_append_varchar_length(app, row[c]->data(), row[c]->size());
      if (s == DuckDBError) st = Status::Invalid("append to " + table + ": " + std::string(duckdb_appender_error(app)));
    }
    if (st.ok() && duckdb_appender_end_row(app) == DuckDBError)
      st = Status::Invalid("append to " + table + ": " + std::string(duckdb_appender_error(app)));
    if (!st.ok()) break;
  }
  if (st.ok() && duckdb_appender_flush(app) == DuckDBError)
    st = Status::Invalid("append to " + table + ": " + std::string(duckdb_appender_error(app)));
  duckdb_appender_destroy(&app);
  return st;
}

}  // namespace sluice
