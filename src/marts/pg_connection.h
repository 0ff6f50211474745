// PgConnection: a small RAII wrapper over one libpq connection (Debian libpq-dev), for the PostgreSQL marts.
// The only file in sluice that includes libpq-fe.h is pg_connection.cc. Every call is synchronous; results
// come back as text cells. libpq's errors become Status codes that say what to do: a lost or refused
// connection, a serialization failure or a deadlock is Retry, anything else Internal. Messages never carry
// the connection string (it may hold a password).
// Thread-safety: not thread-safe; one owner at a time.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace sluice {

// A statement's result: its rows as text (nullopt is SQL NULL), and the rows it changed (INSERT, DELETE).
struct PgResult {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
  int64_t affected = 0;
};

class PgConnection {
 public:
  // Opens a connection from a libpq connection string ("host=... port=... dbname=..." or "postgresql://...").
  // Retry when the server cannot be reached; Invalid when the string itself is malformed.
  static Result<std::unique_ptr<PgConnection>> Connect(const std::string& conninfo);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs `sql` (one or more statements without parameters) and discards what it returns.
  Status Execute(const std::string& sql);
  // Runs one statement with `params` as $1, $2, ... (text; nullopt is NULL) and returns its rows.
  Result<PgResult> Query(const std::string& sql, const std::vector<std::optional<std::string>>& params = {});
  // Runs `copy_sql` (COPY ... FROM STDIN, text format) and sends `data` as its input; returns the rows copied.
  Result<int64_t> CopyIn(const std::string& copy_sql, const std::string& data);
  // Whether the connection is still usable (false once the server went away: open a new one).
  bool ok() const;

 private:
  explicit PgConnection(void* conn) : conn_(conn) {}
  void* conn_;  // PGconn*; kept opaque so that only pg_connection.cc sees libpq's header
};

// `text` as a PostgreSQL identifier ("name" with inner quotes doubled).
std::string PgIdent(const std::string& text);
// `text` as a PostgreSQL string literal ('text' with inner quotes doubled, E'' never needed).
std::string PgLiteral(const std::string& text);

}  // namespace sluice
