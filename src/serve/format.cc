#include "serve/format.h"

#include <algorithm>

#include "core/record_parser.h"

namespace sluice {
namespace {

// Display width in code points, so UTF-8 names line up.
size_t Width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool IsNumericType(const std::string& t) {
  return t == "BIGINT" || t == "INTEGER" || t == "SMALLINT" || t == "TINYINT" || t == "HUGEINT" || t == "UBIGINT" ||
         t == "UINTEGER" || t == "USMALLINT" || t == "UTINYINT" || t == "UHUGEINT" || t == "DOUBLE" || t == "FLOAT" ||
         t == "DECIMAL";
}

// One cell as JSON: numbers and booleans unquoted (but NaN and infinities, which JSON lacks), JSON as is.
void AppendJsonCell(std::string& out, const QueryResult& r, size_t c, const std::optional<std::string>& v) {
  const std::string& type = c < r.types.size() ? r.types[c] : "";
  if (!v)
    out += "null";
  else if ((IsNumericType(type) && *v != "nan" && *v != "inf" && *v != "-inf") || type == "BOOLEAN")
    out += *v;
  else if (type == "JSON" || type == "LIST" || type == "ARRAY" || type == "STRUCT" || type == "MAP")
    out += *v;  // already JSON text (the reader renders nested values as JSON)
  else
    AppendJsonString(out, *v);
}

// The first `n` code points of `s`.
std::string Prefix(const std::string& s, size_t n) {
  size_t i = 0;
  for (size_t seen = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && seen++ == n) break;
  }
  return s.substr(0, i);
}

// Narrows the widest columns until the line (cells plus two spaces between them) fits `max_width`; no
// column goes below kMinColumn (a cut cell must still say something).
void FitColumns(std::vector<size_t>& w, size_t max_width) {
  constexpr size_t kMinColumn = 8;
  auto total = [&] {
    size_t t = w.empty() ? 0 : 2 * (w.size() - 1);
    for (size_t x : w) t += x;
    return t;
  };
  while (total() > max_width) {
    size_t widest = 0;
    for (size_t c = 1; c < w.size(); ++c)
      if (w[c] > w[widest]) widest = c;
    if (w[widest] <= kMinColumn) return;
    size_t second = kMinColumn;
    for (size_t c = 0; c < w.size(); ++c)
      if (c != widest) second = std::max(second, std::min(w[c], w[widest]));
    size_t cut = std::min(total() - max_width, w[widest] - second);
    w[widest] -= std::max<size_t>(cut, 1);
  }
}

}  // namespace

std::string FormatTable(const QueryResult& r, size_t max_width) {
  std::vector<size_t> w(r.columns.size());
  for (size_t c = 0; c < r.columns.size(); ++c) w[c] = Width(r.columns[c]);
  for (const auto& row : r.rows)
    for (size_t c = 0; c < row.size(); ++c) w[c] = std::max(w[c], Width(row[c].value_or("NULL")));
  if (max_width > 0) FitColumns(w, max_width);
  auto line = [&](const std::vector<std::string>& given, bool header) {
    std::string out;
    for (size_t c = 0; c < given.size(); ++c) {
      std::string cell = Width(given[c]) > w[c] ? Prefix(given[c], w[c] - 1) + "\u2026" : given[c];
      if (c) out += "  ";
      std::string pad(w[c] - Width(cell), ' ');
      bool right = !header && c < r.types.size() && IsNumericType(r.types[c]);
      out += right ? pad + cell : cell + (c + 1 < given.size() ? pad : "");
    }
    return out + "\n";
  };
  std::string out = line(r.columns, true);
  std::vector<std::string> rule;
  for (size_t c = 0; c < w.size(); ++c) rule.push_back(std::string(w[c], '-'));
  out += line(rule, true);
  for (const auto& row : r.rows) {
    std::vector<std::string> cells;
    for (const auto& v : row) cells.push_back(v.value_or("NULL"));
    out += line(cells, false);
  }
  out += "(" + std::to_string(r.rows.size()) + (r.rows.size() == 1 ? " row" : " rows") +
         (r.truncated ? ", cut at server.max_rows)\n" : ")\n");
  return out;
}

std::string FormatCsv(const QueryResult& r) {
  auto cell = [](const std::string& s) {
    if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) {
      if (c == '"') q += '"';
      q += c;
    }
    return q + "\"";
  };
  std::string out;
  for (size_t c = 0; c < r.columns.size(); ++c) out += (c ? "," : "") + cell(r.columns[c]);
  out += "\r\n";
  for (const auto& row : r.rows) {
    for (size_t c = 0; c < row.size(); ++c) out += (c ? "," : "") + (row[c] ? cell(*row[c]) : std::string());
    out += "\r\n";
  }
  return out;
}

std::string FormatJson(const QueryResult& r) {
  std::string out = "[";
  for (size_t i = 0; i < r.rows.size(); ++i) {
    out += i ? ",\n{" : "\n{";
    for (size_t c = 0; c < r.columns.size(); ++c) {
      if (c) out += ",";
      AppendJsonString(out, r.columns[c]);
      out += ":";
      AppendJsonCell(out, r, c, r.rows[i][c]);
    }
    out += "}";
  }
  return out + "\n]\n";
}

std::string FormatJsonColumns(const QueryResult& r) {
  std::string out = "{\"columns\":[";
  for (size_t c = 0; c < r.columns.size(); ++c) {
    if (c) out += ",";
    AppendJsonString(out, r.columns[c]);
  }
  out += "],\"types\":[";
  for (size_t c = 0; c < r.types.size(); ++c) {
    if (c) out += ",";
    AppendJsonString(out, r.types[c]);
  }
  out += "],\"rows\":[";
  for (size_t i = 0; i < r.rows.size(); ++i) {
    out += i ? ",\n[" : "\n[";
    for (size_t c = 0; c < r.columns.size(); ++c) {
      if (c) out += ",";
      AppendJsonCell(out, r, c, r.rows[i][c]);
    }
    out += "]";
  }
  return out + "]}\n";
}

std::string FormatResult(const QueryResult& r, const std::string& format, size_t max_width) {
  if (format == "csv") return FormatCsv(r);
  if (format == "json") return FormatJson(r);
  return FormatTable(r, max_width);
}

}  // namespace sluice
