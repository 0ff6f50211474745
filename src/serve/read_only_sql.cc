#include "serve/read_only_sql.h"

#include <cctype>

namespace sluice {
namespace {

// The position of the first character at or after `i` that is not a blank, a comment or one of `also`;
// npos at the end.
size_t SkipBlanks(const std::string& sql, size_t i, const char* also) {
  while (i < sql.size()) {
    char c = sql[i];
    if (std::isspace(static_cast<unsigned char>(c)) || std::string_view(also).find(c) != std::string_view::npos) {
      ++i;
    } else if (sql.compare(i, 2, "--") == 0) {
      i = sql.find('\n', i);
    } else if (sql.compare(i, 2, "/*") == 0) {
      i = sql.find("*/", i + 2);
      if (i != std::string::npos) i += 2;
    } else {
      return i;
    }
  }
  return std::string::npos;
}

// Whether a ';' outside quoted text and comments ends one statement and another follows.
bool HasSeveralStatements(const std::string& sql) {
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (c == '\'' || c == '"') {
      size_t end = sql.find(c, i + 1);
      while (end != std::string::npos && end + 1 < sql.size() && sql[end + 1] == c) end = sql.find(c, end + 2);
      if (end == std::string::npos) return false;
      i = end;
    } else if (sql.compare(i, 2, "--") == 0 || sql.compare(i, 2, "/*") == 0) {
      i = SkipBlanks(sql, i, "");
      if (i == std::string::npos) return false;
      --i;
    } else if (c == ';') {
      return SkipBlanks(sql, i + 1, ";") != std::string::npos;
    }
  }
  return false;
}

}  // namespace

bool IsReadOnlySql(const std::string& sql) {
  size_t i = SkipBlanks(sql, 0, "(");
  if (i == std::string::npos) return false;
  std::string head;
  for (size_t k = i; k < sql.size() && std::isalpha(static_cast<unsigned char>(sql[k])); ++k)
    head += static_cast<char>(std::tolower(static_cast<unsigned char>(sql[k])));
  bool reads = head == "select" || head == "with" || head == "from" || head == "show" || head == "describe" ||
               head == "summarize" || head == "explain" || head == "pivot" || head == "values" || head == "table";
  return reads && !HasSeveralStatements(sql);
}

}  // namespace sluice
