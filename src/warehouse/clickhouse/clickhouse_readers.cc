#include "warehouse/clickhouse/clickhouse_readers.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>

#include "core/record_parser.h"
#include "warehouse/clickhouse/clickhouse_schema.h"

namespace sluice {
namespace {

std::string_view Unwrap(std::string_view t) {
  for (std::string_view w : {"Nullable(", "LowCardinality("}) {
    if (t.substr(0, w.size()) == w && t.back() == ')') return Unwrap(t.substr(w.size(), t.size() - w.size() - 1));
  }
  return t;
}

bool IsNestedType(std::string_view t) {
  t = Unwrap(t);
  return t.substr(0, 6) == "Array(" || t.substr(0, 6) == "Tuple(";
}

// Parses one value of ClickHouse's quoted text form at text[pos], appending its JSON.
void ValueToJson(std::string_view text, size_t& pos, std::string& out) {
  if (pos >= text.size()) return;
  char c = text[pos];
  if (c == '[' || c == '(') {
    const char close = c == '[' ? ']' : ')';
    out += '[';
    ++pos;
    bool first = true;
    while (pos < text.size() && text[pos] != close) {
      if (text[pos] == ',' || text[pos] == ' ') {
        ++pos;
        continue;
      }
      if (!first) out += ',';
      first = false;
      ValueToJson(text, pos, out);
    }
    ++pos;
    out += ']';
    return;
  }
  if (c == '\'') {
    std::string s;
    for (++pos; pos < text.size() && text[pos] != '\''; ++pos) {
      if (text[pos] != '\\' || pos + 1 == text.size()) {
        s += text[pos];
        continue;
      }
      char e = text[++pos];
      switch (e) {
        case 'n':
          s += '\n';
          break;
        case 't':
          s += '\t';
          break;
        case 'r':
          s += '\r';
          break;
        case 'b':
          s += '\b';
          break;
        case 'f':
          s += '\f';
          break;
        case '0':
          s += '\0';
          break;
        default:
          s += e;
      }
    }
    ++pos;
    AppendJsonString(out, s);
    return;
  }
  size_t end = pos;
  while (end < text.size() && text[end] != ',' && text[end] != ']' && text[end] != ')') ++end;
  std::string_view token = text.substr(pos, end - pos);
  pos = end;
  if (token == "NULL")
    out += "null";
  else if (token == "nan" || token == "inf" || token == "-inf" || token == "-nan")
    AppendJsonString(out, token);
  else
    out.append(token);
}

// Reads TabSeparatedWithNamesAndTypes lines as they stream in, up to a row cap.
class StreamParser {
 public:
  explicit StreamParser(int64_t max_rows) : max_rows_(max_rows) {}

  // Takes a chunk; false once the cap is passed (stop reading) or an error was found.
  bool Feed(std::string_view chunk) {
    pending_.append(chunk);
    size_t start = 0;
    while (true) {
      size_t nl = pending_.find('\n', start);
      if (nl == std::string::npos) break;
      if (!Line(std::string_view(pending_).substr(start, nl - start))) {
        pending_.clear();
        return false;
      }
      start = nl + 1;
    }
    pending_.erase(0, start);
    return true;
  }

  Status error() const { return error_; }
  int64_t rows_seen() const { return rows_seen_; }
  QueryResult& result() { return result_; }

 private:
  bool Line(std::string_view line) {
    std::vector<std::string_view> cells;
    size_t s = 0;
    while (true) {
      size_t tab = line.find('\t', s);
      cells.push_back(line.substr(s, tab == std::string_view::npos ? std::string_view::npos : tab - s));
      if (tab == std::string_view::npos) break;
      s = tab + 1;
    }
    if (line_ == 0) {
      for (auto c : cells) result_.columns.push_back(UnescapeTsv(c));
    } else if (line_ == 1) {
      for (auto c : cells) {
        std::string t = UnescapeTsv(c);
        nested_.push_back(IsNestedType(t));
        result_.types.push_back(ReaderTypeName(t));
      }
    } else {
      if (cells.size() != result_.columns.size()) {
        // An exception after rows were sent is appended to the body as text.
        error_ = ClickHouseErrorCode(line) >= 0
                     ? ClickHouseError(200, line, "query")
                     : Status::Invalid("the answer is not one row per line of " +
                                       std::to_string(result_.columns.size()) + " columns (a FORMAT clause?)");
        return false;
      }
      ++rows_seen_;
      if (rows_seen_ > max_rows_) {
        result_.truncated = true;
        return false;
      }
      std::vector<std::optional<std::string>> row;
      row.reserve(cells.size());
      for (size_t c = 0; c < cells.size(); ++c) {
        if (cells[c] == "\\N") {
          row.emplace_back(std::nullopt);
        } else if (nested_[c]) {
          std::string json;
          size_t pos = 0;
          ValueToJson(cells[c], pos, json);
          row.emplace_back(std::move(json));
        } else {
          row.emplace_back(UnescapeTsv(cells[c]));
        }
      }
      result_.rows.push_back(std::move(row));
    }
    ++line_;
    return true;
  }

  int64_t max_rows_;
  std::string pending_;
  int64_t line_ = 0, rows_seen_ = 0;
  std::vector<bool> nested_;
  QueryResult result_;
  Status error_;
};

}  // namespace

std::string ReaderTypeName(std::string_view clickhouse_type) {
  std::string_view t = Unwrap(clickhouse_type);
  if (t == "Int8") return "TINYINT";
  if (t == "Int16" || t == "UInt8") return "SMALLINT";
  if (t == "Int32" || t == "UInt16") return "INTEGER";
  if (t == "Int64" || t == "UInt32") return "BIGINT";
  if (t == "UInt64") return "UBIGINT";
  if (t == "Float32") return "FLOAT";
  if (t == "Float64") return "DOUBLE";
  if (t.substr(0, 7) == "Decimal") return "DECIMAL";
  if (t == "String" || t.substr(0, 11) == "FixedString" || t.substr(0, 4) == "Enum" || t == "UUID") return "VARCHAR";
  if (t == "Date") return "DATE";
  if (t.substr(0, 8) == "DateTime") return "TIMESTAMP";
  if (t.substr(0, 6) == "Array(") return "LIST";
  if (t.substr(0, 6) == "Tuple(") return "STRUCT";
  return std::string(t);
}

std::string ClickHouseValueToJson(std::string_view text) {
  std::string out;
  size_t pos = 0;
  ValueToJson(text, pos, out);
  return out;
}

Result<std::unique_ptr<ClickHouseReaders>> ClickHouseReaders::Open(ClickHouseOptions reader, ClickHouseOptions admin,
                                                                   size_t connections) {
  std::unique_ptr<ClickHouseReaders> r(
      new ClickHouseReaders(std::move(reader), std::move(admin), std::max<size_t>(connections, 1)));
  ASSIGN_OR_RETURN(auto settings, r->reader_.Query("SELECT name, value FROM system.settings WHERE name IN ('readonly', "
                                                   "'max_result_rows', 'result_overflow_mode')"));
  std::string readonly;
  for (const auto& row : settings.rows) {
    const std::string name = row[0].value_or(""), value = row[1].value_or("");
    if (name == "readonly") readonly = value;
    if (name == "max_result_rows") r->profile_max_result_rows_ = std::stoll(value);
    if (name == "result_overflow_mode") r->profile_breaks_ = value == "break";
  }
  if (readonly != "1")
    return Status::Invalid("the ClickHouse reader user '" + r->reader_.options().user + "' has readonly = " + readonly +
                           "; its users.xml profile must set readonly = 1 (a URL parameter could be undone, and "
                           "readonly = 2 allows file() and url())");
  return r;
}

Result<std::string> ClickHouseBindParams(const std::string& sql, const std::vector<QueryParam>& params) {
  std::string out;
  std::vector<bool> used(params.size(), false);
  for (size_t i = 0; i < sql.size();) {
    const char c = sql[i];
    size_t end = i + 1;
    if (c == '\'' || c == '"' || c == '`') {  // a literal or a quoted name, with backslash escapes
      while (end < sql.size() && sql[end] != c) end += sql[end] == '\\' ? 2 : 1;
      end = std::min(end + 1, sql.size());
    } else if (sql.compare(i, 2, "--") == 0) {
      end = std::min(sql.find('\n', i), sql.size());
    } else if (sql.compare(i, 2, "/*") == 0) {
      end = sql.find("*/", i + 2);
      end = end == std::string::npos ? sql.size() : end + 2;
    } else if (c == '$' && i + 1 < sql.size() && std::isdigit(static_cast<unsigned char>(sql[i + 1]))) {
      while (end < sql.size() && std::isdigit(static_cast<unsigned char>(sql[end]))) ++end;
      const size_t n = std::stoul(sql.substr(i + 1, std::min<size_t>(end - i - 1, 9)));
      if (n == 0 || n > params.size())
        return Status::Invalid("placeholder $" + std::to_string(n) + " has no value (" + std::to_string(params.size()) +
                               " given)");
      used[n - 1] = true;
      const QueryParam& p = params[n - 1];
      switch (p.type) {
        case QueryParam::Type::kTimestamp: {
          int64_t seconds = p.micros / 1'000'000 - (p.micros % 1'000'000 < 0 ? 1 : 0);
          out += "toDateTime(" + std::to_string(seconds) + ", 'UTC')";
          break;
        }
      }
      i = end;
      continue;
    }
    out.append(sql, i, end - i);
    i = end;
  }
  for (size_t k = 0; k < used.size(); ++k)
    if (!used[k]) return Status::Invalid("parameter $" + std::to_string(k + 1) + " is not used by the statement");
  return out;
}

Result<QueryResult> ClickHouseReaders::Query(const std::string& sql_text, const ReadLimits& limits,
                                             const std::vector<QueryParam>& params) {
  ASSIGN_OR_RETURN(const std::string sql, ClickHouseBindParams(sql_text, params));
  const auto timeout = std::chrono::microseconds(std::max<int64_t>(limits.timeout_us, 1000));
  const auto started = std::chrono::steady_clock::now();
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return free_ > 0; }))
      return Status::Retry("every reader stayed busy for the query's whole timeout");
    --free_;
  }
  struct Release {
    ClickHouseReaders* r;
    ~Release() {
      std::lock_guard<std::mutex> lock(r->mu_);
      ++r->free_;
      r->cv_.notify_one();
    }
  } release{this};

  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(timeout - (std::chrono::steady_clock::now() - started));
  const std::string query_id =
      "sluice-reader-" + std::to_string(getpid()) + "-" + std::to_string(next_query_.fetch_add(1));
  StreamParser parser(limits.max_rows);
  ClickHouseRequest request;
  request.sql = sql;
  request.settings = {{"query_id", query_id}, {"default_format", "TabSeparatedWithNamesAndTypes"}};
  request.timeout = std::max(left, std::chrono::milliseconds(1));
  request.on_data = [&](std::string_view chunk) { return parser.Feed(chunk); };
  auto sent = reader_.Send(request);
  // curl's own timeout fires at `left` (whole milliseconds): allow for the rounding.
  const bool past_timeout = std::chrono::steady_clock::now() - started >= timeout - std::chrono::milliseconds(20);
  if (!sent.ok()) {
    const Status& st = sent.status();
    if (st.IsTimedOut()) return Status::TimedOut("query ran past its timeout: " + st.message());
    if (st.IsRetry() && past_timeout) {
      // The request gave up; the server may still run the query. Stop it, as the loader's user.
      (void)admin_.Execute("KILL QUERY WHERE query_id = " + ChLiteral(query_id) + " ASYNC");
      return Status::TimedOut("query ran past its timeout of " + std::to_string(limits.timeout_us / 1000) + " ms");
    }
    if (st.IsRetry()) return st;
    return Status::Invalid(st.message());
  }
  if (!parser.error().ok()) {
    if (parser.error().IsTimedOut()) return Status::TimedOut(parser.error().message());
    return Status::Invalid(parser.error().message());
  }
  QueryResult& result = parser.result();
  // The server cut the answer at its own bound (a block past max_result_rows), below ours.
  if (profile_breaks_ && profile_max_result_rows_ > 0 && parser.rows_seen() >= profile_max_result_rows_)
    result.truncated = true;
  return std::move(result);
}

}  // namespace sluice
