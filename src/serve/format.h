// Renders a QueryResult as an aligned text table (the CLI's default), CSV (RFC 4180) or JSON (an array of
// objects; numbers and booleans unquoted). Pure functions; thread-safe.
#pragma once

#include <string>

#include "warehouse/query_result.h"

namespace sluice {

std::string FormatTable(const QueryResult& r);
std::string FormatCsv(const QueryResult& r);
std::string FormatJson(const QueryResult& r);
// {"columns":[..],"types":[..],"rows":[[..],..]}: column order kept, cells typed as in FormatJson.
std::string FormatJsonColumns(const QueryResult& r);
// "table" | "csv" | "json"; anything else is table.
std::string FormatResult(const QueryResult& r, const std::string& format);

}  // namespace sluice
