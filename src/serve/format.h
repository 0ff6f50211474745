// Renders a QueryResult as an aligned text table (the CLI's default), CSV (RFC 4180) or JSON (an array of
// objects; numbers and booleans unquoted). Pure functions; thread-safe.
#pragma once

#include <string>

#include "warehouse/query_result.h"

namespace sluice {

// `max_width` > 0 (a terminal's columns): the widest columns are narrowed until a line fits, and cells
// longer than their column end in "…". 0: no limit (pipes, files).
std::string FormatTable(const QueryResult& r, size_t max_width = 0);
std::string FormatCsv(const QueryResult& r);
std::string FormatJson(const QueryResult& r);
// {"columns":[..],"types":[..],"rows":[[..],..]}: column order kept, cells typed as in FormatJson.
std::string FormatJsonColumns(const QueryResult& r);
// "table" | "csv" | "json"; anything else is table.
std::string FormatResult(const QueryResult& r, const std::string& format, size_t max_width = 0);

}  // namespace sluice
