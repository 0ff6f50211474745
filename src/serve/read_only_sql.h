// Whether a SQL text looks like one statement that reads: a friendly first error for dashboard charts, given
// at load with file and line. It is not the guard: readers (warehouse/reader.h) have the engine refuse
// anything else when the SQL runs. Pure function; thread-safe.
#pragma once

#include <string>

namespace sluice {

// True when `sql` is one statement that starts with a reading keyword (SELECT, WITH, FROM, SHOW, DESCRIBE,
// SUMMARIZE, EXPLAIN, PIVOT, VALUES, TABLE). A second statement after a ';' (outside quotes and comments)
// makes it false, so "SELECT 1; DROP TABLE t" is refused.
bool IsReadOnlySql(const std::string& sql);

// The message both the API and the dashboard loader give for SQL that IsReadOnlySql refuses.
inline constexpr const char* kReadOnlySqlError = "only one read-only statement (SELECT, WITH, ...) is accepted";

}  // namespace sluice
