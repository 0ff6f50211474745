#include "warehouse/clickhouse/clickhouse_client.h"

#include <curl/curl.h>

#include <cstdlib>
#include <mutex>

namespace sluice {
namespace {

// ClickHouse error codes (dbms/src/Common/ErrorCodes.cpp), by what the caller should do.
bool IsRetryCode(int code) {
  switch (code) {
    case 209:  // SOCKET_TIMEOUT
    case 210:  // NETWORK_ERROR
    case 202:  // TOO_MANY_SIMULTANEOUS_QUERIES
    case 203:  // NO_FREE_CONNECTION
    case 216:  // QUERY_WITH_SAME_ID_IS_ALREADY_RUNNING: an earlier attempt still runs
    case 225:  // NO_ZOOKEEPER
    case 241:  // MEMORY_LIMIT_EXCEEDED: other queries may free it
    case 242:  // TABLE_IS_READ_ONLY: a replica without its ZooKeeper session
    case 252:  // TOO_MANY_PARTS: merges must catch up
    case 279:  // ALL_CONNECTION_TRIES_FAILED
    case 285:  // TOO_FEW_LIVE_REPLICAS
    case 286:  // UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE
    case 319:  // UNKNOWN_STATUS_OF_INSERT: re-send the same bytes (dedup drops a copy)
    case 999:  // KEEPER_EXCEPTION: ZooKeeper session expired, connection loss
      return true;
    default:
      return false;
  }
}

bool IsInvalidCode(int code) {
  switch (code) {
    case 6:
    case 16:
    case 20:
    case 26:
    case 27:
    case 32:
    case 33:
    case 38:
    case 41:
    case 43:
    case 44:
    case 46:
    case 47:
    case 48:
    case 49:
    case 53:
    case 60:
    case 62:
    case 69:
    case 70:
    case 72:
    case 107:
    case 115:
    case 117:
    case 130:
    case 131:
    case 164:
    case 179:
    case 184:
    case 190:
    case 192:
    case 193:
    case 194:
    case 215:
    case 307:
    case 352:
    case 386:
    case 392:
    case 396:
    case 497:
    case 516:
      // CANNOT_PARSE_*, NOT_FOUND_COLUMN_IN_BLOCK, ATTEMPT_TO_READ_AFTER_EOF (short RowBinary),
      // CANNOT_READ_ALL_DATA, ILLEGAL_TYPE_OF_ARGUMENT, ILLEGAL_COLUMN, UNKNOWN_FUNCTION, UNKNOWN_IDENTIFIER,
      // NOT_IMPLEMENTED, TYPE_MISMATCH, UNKNOWN_TABLE, SYNTAX_ERROR, ARGUMENT_OUT_OF_BOUND, CANNOT_CONVERT_TYPE,
      // CANNOT_PARSE_NUMBER, UNKNOWN_SETTING, INCORRECT_DATA, CANNOT_READ_ARRAY_FROM_TEXT,
      // CANNOT_PARSE_TEXT, READONLY, AMBIGUOUS_COLUMN_NAME, AGGREGATE_FUNCTION_NOT_ALLOWED_IN_..., SIZES_OF_
      // ARRAYS_DOESNT_MATCH, UNKNOWN_USER, WRONG_PASSWORD, REQUIRED_PASSWORD, NOT_AN_AGGREGATE, TOO_DEEP_AST,
      // UNKNOWN_TYPE..., IP_ADDRESS_NOT_ALLOWED, QUERY_IS_TOO_LARGE... , QUERY_IS_NOT_SUPPORTED_IN_MATERIALIZED..,
      // QUERY_IS_PROHIBITED (allow_ddl=0), TOO_MANY_ROWS_OR_BYTES, ACCESS_DENIED, AUTHENTICATION_FAILED.
      return true;
    default:
      return false;
  }
}

Status FromCode(int code, std::string message) {
  if (code == 159) return Status::TimedOut(std::move(message));  // TIMEOUT_EXCEEDED
  if (IsRetryCode(code)) return Status::Retry(std::move(message));
  if (code == 57 || code == 15 || code == 82)  // TABLE_ALREADY_EXISTS, DUPLICATE_COLUMN, DATABASE_ALREADY_EXISTS
    return Status::AlreadyExists(std::move(message));
  if (code == 81) return Status::NotFound(std::move(message));  // UNKNOWN_DATABASE
  if (code == 243) return Status::Io(std::move(message));       // NOT_ENOUGH_SPACE
  if (IsInvalidCode(code)) return Status::Invalid(std::move(message));
  return Status::Internal(std::move(message));
}

size_t WriteToString(char* p, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(p, size * n);
  return size * n;
}

struct StreamState {
  CURL* curl;
  const std::function<bool(std::string_view)>* on_data;
  std::string error_body;  // the body of a non-200 answer
  bool stopped = false;    // on_data asked to stop
};

size_t WriteToCallback(char* p, size_t size, size_t n, void* user) {
  auto* s = static_cast<StreamState*>(user);
  long status = 0;
  curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) {
    if (s->error_body.size() < 64 * 1024) s->error_body.append(p, size * n);
    return size * n;
  }
  if (!(*s->on_data)(std::string_view(p, size * n))) {
    s->stopped = true;
    return 0;  // CURLE_WRITE_ERROR: stops the transfer
  }
  return size * n;
}

std::string Escape(CURL* curl, std::string_view s) {
  char* e = curl_easy_escape(curl, s.data(), static_cast<int>(s.size()));
  std::string out = e ? e : "";
  curl_free(e);
  return out;
}

std::string FirstLine(std::string_view sql) {
  std::string_view s = sql.substr(0, std::min<size_t>(sql.find('\n'), 200));
  return std::string(s) + (s.size() < sql.size() ? " ..." : "");
}

}  // namespace

int ClickHouseErrorCode(std::string_view text) {
  size_t at = text.find("Code: ");
  if (at == std::string_view::npos) return -1;
  return std::atoi(std::string(text.substr(at + 6, 8)).c_str());
}

Status ClickHouseError(int http_status, std::string_view body, std::string_view what) {
  std::string text(body.substr(0, 2000));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  int code = ClickHouseErrorCode(text);
  std::string message = std::string(what) + ": " + (text.empty() ? "HTTP " + std::to_string(http_status) : text);
  if (code >= 0) return FromCode(code, std::move(message));
  // No ClickHouse code: a proxy or a server that is not ready answered.
  if (http_status >= 500 || http_status == 429 || http_status == 408) return Status::Retry(std::move(message));
  return Status::Invalid(std::move(message));
}

ClickHouseClient::ClickHouseClient(ClickHouseOptions options) : options_(std::move(options)) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  while (!options_.url.empty() && options_.url.back() == '/') options_.url.pop_back();
}

ClickHouseClient::~ClickHouseClient() {
  for (void* h : handles_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* ClickHouseClient::TakeHandle() const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!handles_.empty()) {
      void* h = handles_.back();
      handles_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void ClickHouseClient::GiveBack(void* handle) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (handles_.size() < 8) {
    handles_.push_back(handle);
    return;
  }
  curl_easy_cleanup(static_cast<CURL*>(handle));
}

Result<std::string> ClickHouseClient::Send(const ClickHouseRequest& request) const {
  CURL* curl = static_cast<CURL*>(TakeHandle());
  if (!curl) return Status::Internal("clickhouse: cannot create a curl handle");
  curl_easy_reset(curl);

  std::string url = options_.url + "/?";
  auto param = [&](std::string_view k, std::string_view v) {
    if (url.back() != '?') url += '&';
    url += Escape(curl, k) + "=" + Escape(curl, v);
  };
  if (!options_.database.empty()) param("database", options_.database);
  for (const auto& [k, v] : request.settings) param(k, v);
  // With data, the SQL goes in the URL and the body is the rows; without, the SQL is the body (no URL limit).
  std::string body_sql;
  if (!request.data.empty()) param("query", request.sql);
  std::string_view body = request.data;
  if (request.data.empty()) {
    body_sql = request.sql;
    body = body_sql;
  }

  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  auto timeout = request.timeout.count() > 0 ? request.timeout : options_.timeout;
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  if (!options_.user.empty()) {
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(curl, CURLOPT_USERNAME, options_.user.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, options_.password.c_str());
  }
  // No "Expect: 100-continue" round trip before large bodies.
  curl_slist* headers = curl_slist_append(nullptr, "Expect:");
  headers = curl_slist_append(headers, "Content-Type: application/octet-stream");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

  std::string out;
  StreamState stream{curl, &request.on_data};
  if (request.on_data) {
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteToCallback);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &stream);
  } else {
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteToString);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out);
  }
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  const std::string what = "clickhouse " + FirstLine(request.sql);

  if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && stream.stopped)) {
    std::string err = curl_easy_strerror(rc);
    curl_easy_cleanup(curl);  // the connection's state is unknown: do not reuse it
    if (rc == CURLE_OPERATION_TIMEDOUT)
      return Status::Retry(what + ": no answer within " + std::to_string(timeout.count()) + " ms (" + err + ")");
    if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL) return Status::Invalid(what + ": " + err);
    return Status::Retry(what + ": " + err);
  }
  if (stream.stopped) {
    curl_easy_cleanup(curl);  // dropped mid-answer
    return std::string();
  }
  GiveBack(curl);
  if (status != 200) return ClickHouseError(static_cast<int>(status), request.on_data ? stream.error_body : out, what);
  return out;
}

Status ClickHouseClient::Execute(const std::string& sql, ClickHouseSettings settings) const {
  ClickHouseRequest r;
  r.sql = sql;
  r.settings = std::move(settings);
  return Send(r).status();
}

Result<QueryResult> ClickHouseClient::Query(const std::string& sql, ClickHouseSettings settings) const {
  ClickHouseRequest r;
  r.sql = sql;
  r.settings = std::move(settings);
  r.settings.emplace_back("default_format", "TabSeparatedWithNamesAndTypes");
  ASSIGN_OR_RETURN(std::string body, Send(r));
  return ParseTsvWithNamesAndTypes(body);
}

Status ClickHouseClient::Insert(const std::string& insert_sql, std::string_view data,
                                ClickHouseSettings settings) const {
  if (data.empty()) return Status::Ok();
  ClickHouseRequest r;
  r.sql = insert_sql;
  r.data = data;
  r.settings = std::move(settings);
  return Send(r).status();
}

std::string UnescapeTsv(std::string_view cell) {
  if (cell.find('\\') == std::string_view::npos) return std::string(cell);
  std::string out;
  out.reserve(cell.size());
  for (size_t i = 0; i < cell.size(); ++i) {
    char c = cell[i];
    if (c != '\\' || i + 1 == cell.size()) {
      out += c;
      continue;
    }
    char e = cell[++i];
    switch (e) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case '0':
        out += '\0';
        break;
      default:
        out += e;  // \\ \' and anything else: the character itself
    }
  }
  return out;
}

Result<QueryResult> ParseTsvWithNamesAndTypes(std::string_view text) {
  QueryResult r;
  auto split = [](std::string_view line) {
    std::vector<std::string_view> cells;
    size_t start = 0;
    while (true) {
      size_t tab = line.find('\t', start);
      cells.push_back(line.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start));
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    return cells;
  };
  size_t pos = 0;
  int line_no = 0;
  std::vector<bool> nested;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    auto cells = split(line);
    if (line_no == 0) {
      for (auto c : cells) r.columns.push_back(UnescapeTsv(c));
    } else if (line_no == 1) {
      for (auto c : cells) {
        r.types.push_back(UnescapeTsv(c));
        std::string_view t = r.types.back();
        if (t.substr(0, 9) == "Nullable(") t.remove_prefix(9);
        nested.push_back(t.substr(0, 6) == "Array(" || t.substr(0, 6) == "Tuple(");
      }
    } else {
      if (cells.size() != r.columns.size()) {
        // An exception after rows were sent is appended to the body as text.
        if (ClickHouseErrorCode(line) >= 0 && line.find("e.displayText()") != std::string_view::npos)
          return ClickHouseError(200, line, "clickhouse query");
        return Status::Internal("clickhouse: a row of " + std::to_string(cells.size()) + " cells for " +
                                std::to_string(r.columns.size()) + " columns");
      }
      std::vector<std::optional<std::string>> row;
      row.reserve(cells.size());
      for (size_t c = 0; c < cells.size(); ++c) {
        if (cells[c] == "\\N")
          row.emplace_back(std::nullopt);
        else if (nested[c])
          row.emplace_back(std::string(cells[c]));  // Array/Tuple text is ClickHouse's quoted form, not escaped
        else
          row.emplace_back(UnescapeTsv(cells[c]));
      }
      r.rows.push_back(std::move(row));
    }
    ++line_no;
  }
  return r;
}

}  // namespace sluice
