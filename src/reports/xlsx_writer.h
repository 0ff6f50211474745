// FormatXlsx: a QueryResult as an Excel workbook (Office Open XML), through Debian's libxlsxwriter. One sheet:
// the column names in a bold header row, frozen so it stays in view, with an autofilter; below it one row per
// result row, each cell typed by its column's warehouse type so a spreadsheet can sum and sort it:
//  - numbers (integers, decimals, floating point; DuckDB's and ClickHouse's names) as numbers;
//  - DATE as an Excel date ("yyyy-mm-dd"), TIMESTAMP/DateTime as an Excel date-time ("yyyy-mm-dd hh:mm:ss");
//    a timestamp written with a zone offset is shifted to UTC (Excel cells have no zone);
//  - BOOLEAN as a boolean; NULL as an empty cell; everything else (text, JSON of nested values, intervals)
//    as a string, cut to Excel's 32,767 characters per cell.
// A value its column type promises but its text does not parse as (an "infinity" timestamp, a date before
// 1900-03-01, where Excel's calendar is wrong) is written as a string rather than dropped.
// Pure apart from one scratch file in `tmp_dir` (libxlsxwriter writes to a path); thread-safe.
#pragma once

#include <ctime>
#include <string>

#include "core/status.h"
#include "warehouse/query_result.h"

namespace sluice {

struct XlsxOptions {
  std::string sheet_name = "report";  // at most 31 characters, none of []:*?/\ (Excel's rules)
  std::time_t created = 0;            // the workbook's creation time in its properties; 0: now
  std::string tmp_dir;                // where the scratch file goes; empty: the system's temp folder
};

// The workbook's bytes. Invalid for a result wider than Excel's 16,384 columns or longer than its
// 1,048,575 rows below the header; Io when the scratch file cannot be written or read.
Result<std::string> FormatXlsx(const QueryResult& result, const XlsxOptions& options = {});

// How FormatXlsx writes a column of warehouse type `type` (exposed for tests): 'n' number, 'd' date,
// 't' timestamp, 'b' boolean, 's' string.
char XlsxColumnKind(const std::string& type);

}  // namespace sluice
