#include "marts/pg_connection.h"

#include <libpq-fe.h>
#include <spdlog/spdlog.h>

#include <cstring>

namespace sluice {

namespace {

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

PGconn* Conn(void* p) { return static_cast<PGconn*>(p); }

// The first line of libpq's message, without the trailing newline.
std::string Trim(const char* message) {
  std::string m = message ? message : "";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return m;
}

// A failed statement's status: Retry for what another attempt may get past (connection lost: class 08;
// serialization failure or deadlock: class 40; insufficient resources: 53; operator intervention: 57).
Status StatementError(PGconn* conn, const PGresult* res) {
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string message = Trim(res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
  if (message.empty()) message = Trim(PQerrorMessage(conn));
  std::string sqlstate = state ? state : "";
  if (!sqlstate.empty()) message = "postgres " + sqlstate + ": " + message;
  bool retry = PQstatus(conn) != CONNECTION_OK || sqlstate.rfind("08", 0) == 0 || sqlstate.rfind("40", 0) == 0 ||
               sqlstate.rfind("53", 0) == 0 || sqlstate.rfind("57", 0) == 0;
  return retry ? Status::Retry(message) : Status::Internal(message);
}

}  // namespace

Result<std::unique_ptr<PgConnection>> PgConnection::Connect(const std::string& conninfo) {
  char* parse_error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &parse_error);
  if (!options) {
    std::string m = Trim(parse_error ? parse_error : "out of memory");
    PQfreemem(parse_error);
    return Status::Invalid("not a PostgreSQL connection string: " + m);
  }
  PQconninfoFree(options);
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (!conn) return Status::Internal("libpq could not allocate a connection");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string m = Trim(PQerrorMessage(conn));
    PQfinish(conn);
    return Status::Retry("connecting to PostgreSQL: " + m);
  }
  // Notices ("schema already exists, skipping") go to the debug log, not to stderr.
  PQsetNoticeProcessor(
      conn, [](void*, const char* message) { spdlog::debug("postgres: {}", Trim(message)); }, nullptr);
  return std::unique_ptr<PgConnection>(new PgConnection(conn));
}

PgConnection::~PgConnection() { PQfinish(Conn(conn_)); }

bool PgConnection::ok() const { return PQstatus(Conn(conn_)) == CONNECTION_OK; }

Status PgConnection::Execute(const std::string& sql) {
  ResultPtr res(PQexec(Conn(conn_), sql.c_str()));
  ExecStatusType st = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return StatementError(Conn(conn_), res.get());
  return Status::Ok();
}

Result<PgResult> PgConnection::Query(const std::string& sql, const std::vector<std::optional<std::string>>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  ResultPtr res(PQexecParams(Conn(conn_), sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                             nullptr, nullptr, 0));
  ExecStatusType st = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return StatementError(Conn(conn_), res.get());
  PgResult out;
  int nf = PQnfields(res.get()), nr = PQntuples(res.get());
  for (int f = 0; f < nf; ++f) out.columns.emplace_back(PQfname(res.get(), f));
  out.rows.reserve(static_cast<size_t>(nr));
  for (int r = 0; r < nr; ++r) {
    auto& row = out.rows.emplace_back();
    row.reserve(static_cast<size_t>(nf));
    for (int f = 0; f < nf; ++f) {
      if (PQgetisnull(res.get(), r, f))
        row.emplace_back(std::nullopt);
      else
        row.emplace_back(std::string(PQgetvalue(res.get(), r, f), static_cast<size_t>(PQgetlength(res.get(), r, f))));
    }
  }
  const char* tuples = PQcmdTuples(res.get());
  out.affected = tuples && *tuples ? std::stoll(tuples) : 0;
  return out;
}

Result<int64_t> PgConnection::CopyIn(const std::string& copy_sql, const std::string& data) {
  PGconn* conn = Conn(conn_);
  {
    ResultPtr res(PQexec(conn, copy_sql.c_str()));
    if (!res || PQresultStatus(res.get()) != PGRES_COPY_IN) return StatementError(conn, res.get());
  }
  // Sent in pieces: libpq buffers what it is given, so one call with a large stage would double the memory.
  constexpr size_t kChunk = 1 << 20;
  for (size_t at = 0; at < data.size(); at += kChunk) {
    size_t n = std::min(kChunk, data.size() - at);
    if (PQputCopyData(conn, data.data() + at, static_cast<int>(n)) != 1) {
      return Status::Retry("COPY: " + Trim(PQerrorMessage(conn)));
    }
  }
  if (PQputCopyEnd(conn, nullptr) != 1) return Status::Retry("COPY: " + Trim(PQerrorMessage(conn)));
  ResultPtr res(PQgetResult(conn));
  if (!res || PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
    Status st = StatementError(conn, res.get());
    while (PGresult* rest = PQgetResult(conn)) PQclear(rest);
    return st;
  }
  const char* tuples = PQcmdTuples(res.get());
  int64_t copied = tuples && *tuples ? std::stoll(tuples) : 0;
  while (PGresult* rest = PQgetResult(conn)) PQclear(rest);
  return copied;
}

std::string PgIdent(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string PgLiteral(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

}  // namespace sluice
