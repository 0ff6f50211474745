// ClickHouseClient: the ClickHouse backend's HTTP client (libcurl), and the one place that turns ClickHouse's
// answers into Status codes that say what to do:
//   Retry     the same request may succeed later: the server could not be reached or timed out at the network
//             level, ZooKeeper is away or its session expired, 319 UNKNOWN_STATUS_OF_INSERT (an insert that
//             may or may not have been written: re-send the same bytes), too many parts or queries, a query
//             id still running;
//   TimedOut  the query ran past max_execution_time (159);
//   Invalid   the SQL or the data is wrong: syntax, unknown table or column, type mismatch, a write or a
//             setting refused to a read-only user, parse errors in inserted data;
//   AlreadyExists / NotFound / Io   a table or column that exists / a database that does not / a full disk;
//   Internal  anything else (an unknown code stops the operation rather than looping).
// Credentials go through libcurl's basic auth and are never part of a message or a log line; a request's
// SQL may appear in messages, its data never does.
// Thread-safety: thread-safe; each request takes a curl handle of a small pool (kept for keep-alive).
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "warehouse/query_result.h"

namespace sluice {

struct ClickHouseOptions {
  std::string url;  // "http://127.0.0.1:8123", without a path
  std::string user;
  std::string password;
  std::string database;  // each request's default database; empty: the user's
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds timeout{300'000};  // a whole request, unless the request says otherwise
};

using ClickHouseSettings = std::vector<std::pair<std::string, std::string>>;

struct ClickHouseRequest {
  std::string sql;
  // Rows for an INSERT, sent as the body after the SQL (which then travels in the URL's `query` parameter,
  // so the body is the rows' bytes only and the data is never copied into an SQL string).
  std::string_view data;
  ClickHouseSettings settings;           // URL parameters: ClickHouse settings, query_id, default_format, ...
  std::chrono::milliseconds timeout{0};  // 0: the client's
  // Streaming: each chunk of a 200's body goes here instead of the returned string; returning false stops
  // reading (the connection is dropped, which also stops the query on the server once it writes again).
  std::function<bool(std::string_view)> on_data;
};

class ClickHouseClient {
 public:
  explicit ClickHouseClient(ClickHouseOptions options);
  ~ClickHouseClient();
  ClickHouseClient(const ClickHouseClient&) = delete;
  ClickHouseClient& operator=(const ClickHouseClient&) = delete;

  // Sends one request; returns the body of a 200 (empty when streamed), or the mapped error.
  Result<std::string> Send(const ClickHouseRequest& request) const;
  // Runs a statement whose answer does not matter (DDL, INSERT ... VALUES/SELECT).
  Status Execute(const std::string& sql, ClickHouseSettings settings = {}) const;
  // Runs a query and materialises its answer (TabSeparatedWithNamesAndTypes), types as ClickHouse names them.
  Result<QueryResult> Query(const std::string& sql, ClickHouseSettings settings = {}) const;
  // Sends `data` to `insert_sql` ("INSERT INTO t (a, b) FORMAT RowBinary").
  Status Insert(const std::string& insert_sql, std::string_view data, ClickHouseSettings settings = {}) const;

  const ClickHouseOptions& options() const { return options_; }

 private:
  void* TakeHandle() const;
  void GiveBack(void* handle) const;

  ClickHouseOptions options_;
  mutable std::mutex mu_;
  mutable std::vector<void*> handles_;  // idle CURL* handles
};

// ClickHouse's error code in an error text ("Code: 60, e.displayText() = ..."), or -1.
int ClickHouseErrorCode(std::string_view text);
// The Status for an error answer (see the header comment); `what` says which request, for the message.
Status ClickHouseError(int http_status, std::string_view body, std::string_view what);

// Parses TabSeparatedWithNamesAndTypes text (names line, types line, rows; \N is NULL, TSV escapes undone).
Result<QueryResult> ParseTsvWithNamesAndTypes(std::string_view text);
// Undoes TSV escaping of one cell.
std::string UnescapeTsv(std::string_view cell);

}  // namespace sluice
