// DuckDB readers: a small pool of connections on the loader's database instance, each query in a read-only
// transaction, with a watchdog thread that interrupts queries past their deadline (reader.h has the contract).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "warehouse/duckdb/duckdb_internal.h"

namespace sluice {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Whether `sql` calls checkpoint() or force_checkpoint(): housekeeping that a read-only transaction may run
// but that holds the checkpoint lock the loader's commits need. The engine has no switch for one function,
// so this is the one place that reads the text: identifiers (bare or double-quoted) followed by '(', outside
// string literals, dollar-quoted strings and comments.
bool CallsCheckpoint(const std::string& sql) {
  std::string last_ident;  // the identifier just before the current position, lower-cased; "" otherwise
  for (size_t i = 0; i < sql.size();) {
    const char c = sql[i];
    if (c == '$' && i + 1 < sql.size() && std::isdigit(static_cast<unsigned char>(sql[i + 1]))) {
      ++i;  // a parameter ($1), not a dollar-quoted string: a tag does not start with a digit
      last_ident.clear();
    } else if (c == '\'' || c == '$') {
      std::string close(1, c);
      if (c == '$') {  // $tag$ ... $tag$
        size_t tag_end = sql.find('$', i + 1);
        if (tag_end == std::string::npos) return false;
        close = sql.substr(i, tag_end - i + 1);
      }
      size_t end = sql.find(close, i + close.size());
      i = end == std::string::npos ? sql.size() : end + close.size();
      last_ident.clear();
    } else if (sql.compare(i, 2, "--") == 0) {
      i = sql.find('\n', i);
      if (i == std::string::npos) i = sql.size();
    } else if (sql.compare(i, 2, "/*") == 0) {
      size_t end = sql.find("*/", i + 2);
      i = end == std::string::npos ? sql.size() : end + 2;
    } else if (c == '"') {
      size_t end = sql.find('"', i + 1);
      last_ident = sql.substr(i + 1, (end == std::string::npos ? sql.size() : end) - i - 1);
      std::transform(last_ident.begin(), last_ident.end(), last_ident.begin(), ::tolower);
      i = end == std::string::npos ? sql.size() : end + 1;
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') {
      size_t end = i;
      while (end < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[end])) || sql[end] == '_')) ++end;
      last_ident = sql.substr(i, end - i);
      std::transform(last_ident.begin(), last_ident.end(), last_ident.begin(), ::tolower);
      i = end;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else {
      if (c == '(' && (last_ident == "checkpoint" || last_ident == "force_checkpoint")) return true;
      last_ident.clear();
      ++i;
    }
  }
  return false;
}

std::string StatementKind(duckdb_statement_type type) {
  static const std::pair<duckdb_statement_type, const char*> kKinds[] = {
      {DUCKDB_STATEMENT_TYPE_INSERT, "an INSERT"},    {DUCKDB_STATEMENT_TYPE_UPDATE, "an UPDATE"},
      {DUCKDB_STATEMENT_TYPE_DELETE, "a DELETE"},     {DUCKDB_STATEMENT_TYPE_CREATE, "a CREATE"},
      {DUCKDB_STATEMENT_TYPE_ALTER, "an ALTER"},      {DUCKDB_STATEMENT_TYPE_DROP, "a DROP"},
      {DUCKDB_STATEMENT_TYPE_COPY, "a COPY"},         {DUCKDB_STATEMENT_TYPE_ATTACH, "an ATTACH"},
      {DUCKDB_STATEMENT_TYPE_DETACH, "a DETACH"},     {DUCKDB_STATEMENT_TYPE_LOAD, "an INSTALL or LOAD"},
      {DUCKDB_STATEMENT_TYPE_SET, "a SET or PRAGMA"}, {DUCKDB_STATEMENT_TYPE_VARIABLE_SET, "a SET VARIABLE"},
      {DUCKDB_STATEMENT_TYPE_PRAGMA, "a PRAGMA"},     {DUCKDB_STATEMENT_TYPE_CALL, "a CALL"},
      {DUCKDB_STATEMENT_TYPE_EXPORT, "an EXPORT"},    {DUCKDB_STATEMENT_TYPE_TRANSACTION, "a transaction statement"},
      {DUCKDB_STATEMENT_TYPE_VACUUM, "a VACUUM"},     {DUCKDB_STATEMENT_TYPE_ANALYZE, "an ANALYZE"},
      {DUCKDB_STATEMENT_TYPE_PREPARE, "a PREPARE"},   {DUCKDB_STATEMENT_TYPE_EXECUTE, "an EXECUTE"}};
  for (const auto& [t, name] : kKinds)
    if (t == type) return name;
  return "a statement that does not read";
}

class DuckDbReaders : public Readers {
 public:
  DuckDbReaders(std::shared_ptr<DuckDbInstance> instance, std::vector<duckdb_connection> connections)
      : instance_(std::move(instance)) {
    for (duckdb_connection c : connections) slots_.push_back(std::make_unique<Slot>(Slot{c}));
    watchdog_ = std::thread([this] { Watch(); });
  }

  ~DuckDbReaders() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    watch_cv_.notify_all();
    watchdog_.join();
    for (auto& s : slots_) duckdb_disconnect(&s->conn);
  }

  using Readers::Query;
  Result<QueryResult> Query(const std::string& sql, const ReadLimits& limits,
                            const std::vector<QueryParam>& params) override {
    const auto timeout = std::chrono::microseconds(limits.timeout_us);
    Slot* slot = Acquire(SteadyClock::now() + timeout);
    if (!slot)
      return Status::Retry("all " + std::to_string(slots_.size()) + " reader connections stayed busy for " +
                           std::to_string(limits.timeout_us / 1'000'000) + " s; try again");
    Result<QueryResult> result = Run(slot->conn, sql, limits, params);
    const bool timed_out = Release(slot);
    if (timed_out)
      return Status::TimedOut("the query ran past its timeout of " + std::to_string(limits.timeout_us / 1'000'000) +
                              " s (server.query_timeout) and was stopped");
    return result;
  }

 private:
  struct Slot {
    duckdb_connection conn = nullptr;
    bool busy = false;
    std::optional<SteadyClock::time_point> deadline;  // set while a query runs
    bool interrupted = false;                         // the watchdog stopped the running query
  };

  Slot* Acquire(SteadyClock::time_point give_up) {
    std::unique_lock lock(mu_);
    Slot* free = nullptr;
    free_cv_.wait_until(lock, give_up, [&] {
      for (auto& s : slots_)
        if (!s->busy) return (free = s.get()) != nullptr;
      return false;
    });
    if (!free) return nullptr;
    free->busy = true;
    free->interrupted = false;
    free->deadline = give_up;  // the query's own deadline: waiting for a connection counts against it
    watch_cv_.notify_all();
    return free;
  }

  // Returns whether the watchdog interrupted the query.
  bool Release(Slot* slot) {
    bool interrupted;
    {
      std::lock_guard lock(mu_);
      interrupted = slot->interrupted;
      slot->busy = false;
      slot->deadline.reset();
    }
    free_cv_.notify_one();
    return interrupted;
  }

  void Watch() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      auto next = SteadyClock::time_point::max();
      const auto now = SteadyClock::now();
      for (auto& s : slots_) {
        if (!s->busy || !s->deadline || s->interrupted) continue;
        if (*s->deadline <= now) {
          duckdb_interrupt(s->conn);
          s->interrupted = true;
        } else {
          next = std::min(next, *s->deadline);
        }
      }
      if (next == SteadyClock::time_point::max())
        watch_cv_.wait(lock);
      else
        watch_cv_.wait_until(lock, next);
    }
  }

  // Runs `sql` on `conn` in a read-only transaction, always rolled back.
  static Result<QueryResult> Run(duckdb_connection conn, const std::string& sql, const ReadLimits& limits,
                                 const std::vector<QueryParam>& params) {
    duckdb_extracted_statements statements = nullptr;
    const idx_t count = duckdb_extract_statements(conn, sql.c_str(), &statements);
    struct StatementsGuard {
      duckdb_extracted_statements& s;
      ~StatementsGuard() { duckdb_destroy_extracted(&s); }
    } statements_guard{statements};
    if (count == 0) {
      const char* e = duckdb_extract_statements_error(statements);
      return Status::Invalid(e && *e ? e : "no SQL statement to run");
    }
    if (count > 1) return Status::Invalid("one statement per request; this text holds " + std::to_string(count));
    if (CallsCheckpoint(sql))
      return Status::Invalid("checkpoint() is the loader's housekeeping; readers cannot call it");

    if (Status st = Simple(conn, "BEGIN TRANSACTION READ ONLY"); !st.ok()) return st;
    Result<QueryResult> result = RunPrepared(conn, statements, limits, params);
    // An interrupt that lands between statements fails the ROLLBACK itself; the second one then ends the
    // transaction, so the connection goes back to the pool clean.
    if (!Simple(conn, "ROLLBACK").ok() && !Simple(conn, "ROLLBACK").ok())
      spdlog::warn("a reader connection could not roll back its read-only transaction");
    return result;
  }

  static Result<QueryResult> RunPrepared(duckdb_connection conn, duckdb_extracted_statements statements,
                                         const ReadLimits& limits, const std::vector<QueryParam>& params) {
    duckdb_prepared_statement prepared = nullptr;
    struct PreparedGuard {
      duckdb_prepared_statement& p;
      ~PreparedGuard() { duckdb_destroy_prepare(&p); }
    } prepared_guard{prepared};
    if (duckdb_prepare_extracted_statement(conn, statements, 0, &prepared) == DuckDBError) {
      const char* e = duckdb_prepare_error(prepared);
      return Status::Invalid(e ? e : "cannot prepare the statement");
    }
    const duckdb_statement_type type = duckdb_prepared_statement_type(prepared);
    if (type != DUCKDB_STATEMENT_TYPE_SELECT && type != DUCKDB_STATEMENT_TYPE_EXPLAIN)
      return Status::Invalid("only a statement that reads (SELECT, or EXPLAIN of one) can run here; this is " +
                             StatementKind(type));
    if (duckdb_nparams(prepared) != params.size())
      return Status::Invalid("the statement has " + std::to_string(duckdb_nparams(prepared)) + " parameter(s); " +
                             std::to_string(params.size()) + " value(s) were given");
    for (size_t i = 0; i < params.size(); ++i) {
      duckdb_state bound = DuckDBError;
      switch (params[i].type) {
        case QueryParam::Type::kTimestamp:
          bound = duckdb_bind_timestamp(prepared, i + 1, duckdb_timestamp{params[i].micros});
          break;
      }
      if (bound == DuckDBError) return Status::Invalid("cannot bind parameter $" + std::to_string(i + 1));
    }

    duckdb_pending_result pending = nullptr;
    struct PendingGuard {
      duckdb_pending_result& p;
      ~PendingGuard() { duckdb_destroy_pending(&p); }
    } pending_guard{pending};
    if (duckdb_pending_prepared_streaming(prepared, &pending) == DuckDBError) {
      const char* e = duckdb_pending_error(pending);
      return Status::Invalid(e ? e : "cannot start the query");
    }
    duckdb_result result;
    struct ResultGuard {
      duckdb_result& r;
      ~ResultGuard() { duckdb_destroy_result(&r); }
    } result_guard{result};
    if (duckdb_execute_pending(pending, &result) == DuckDBError)
      return StatusFromDuckDb(duckdb_result_error_type(&result), duckdb_result_error(&result));

    QueryResult out;
    std::vector<CellType> types;
    for (idx_t c = 0, n = duckdb_column_count(&result); c < n; ++c) {
      out.columns.emplace_back(duckdb_column_name(&result, c));
      duckdb_logical_type t = duckdb_column_logical_type(&result, c);
      types.push_back(ResolveCellType(t));
      duckdb_destroy_logical_type(&t);
      out.types.push_back(CellTypeName(types.back()));
    }
    const auto max_rows = static_cast<size_t>(std::max<int64_t>(limits.max_rows, 0));
    while (true) {
      duckdb_data_chunk chunk = duckdb_fetch_chunk(result);
      if (!chunk) {
        const char* e = duckdb_result_error(&result);
        if (e) return StatusFromDuckDb(duckdb_result_error_type(&result), e);
        break;
      }
      const idx_t rows = duckdb_data_chunk_get_size(chunk);
      std::vector<duckdb_vector> vectors(types.size());
      for (size_t c = 0; c < types.size(); ++c) vectors[c] = duckdb_data_chunk_get_vector(chunk, c);
      for (idx_t r = 0; r < rows && !out.truncated; ++r) {
        if (out.rows.size() == max_rows) {
          out.truncated = true;  // a row past the cap exists; stop reading (the rest is never computed)
          break;
        }
        std::vector<std::optional<std::string>> row(types.size());
        for (size_t c = 0; c < types.size(); ++c) row[c] = CellText(vectors[c], types[c], r);
        out.rows.push_back(std::move(row));
      }
      duckdb_destroy_data_chunk(&chunk);
      if (out.truncated || rows == 0) break;
    }
    return out;
  }

  static Status Simple(duckdb_connection conn, const char* sql) {
    duckdb_result r;
    Status st;
    if (duckdb_query(conn, sql, &r) == DuckDBError)
      st = StatusFromDuckDb(duckdb_result_error_type(&r), duckdb_result_error(&r));
    duckdb_destroy_result(&r);
    return st;
  }

  std::shared_ptr<DuckDbInstance> instance_;  // kept open while any reader may run
  std::vector<std::unique_ptr<Slot>> slots_;
  std::mutex mu_;
  std::condition_variable free_cv_, watch_cv_;
  bool stopping_ = false;
  std::thread watchdog_;
};

}  // namespace

Result<std::shared_ptr<Readers>> MakeDuckDbReaders(std::shared_ptr<DuckDbInstance> instance, size_t connections) {
  std::vector<duckdb_connection> conns;
  for (size_t i = 0; i < std::max<size_t>(connections, 1); ++i) {
    duckdb_connection c = nullptr;
    if (duckdb_connect(instance->db, &c) == DuckDBError) {
      for (auto& open : conns) duckdb_disconnect(&open);
      return Status::Io("cannot open a reader connection on the DuckDB database");
    }
    conns.push_back(c);
  }
  return std::shared_ptr<Readers>(std::make_shared<DuckDbReaders>(std::move(instance), std::move(conns)));
}

}  // namespace sluice
