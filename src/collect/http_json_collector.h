// http_json collector: any JSON API as a warehouse table from a YAML block, with no new code (issue 4).
// A run GETs `url` (templated: {{date}} is the run's slot date, UTC, YYYY-MM-DD; {{env.NAME}} an environment
// variable; {{name}} an entry of `vars`), follows pages (`Link: rel="next"` or a next-URL field), takes the
// rows at the `rows` JSON path of each page, and maps each row to columns by `fields` (a JSON path relative
// to the row, which may hold {{date}} and vars, and a type; or a `value` template of {{date}} and vars that is
// the same in every row: a snapshot's day, so that `key` can hold it). Rows are upserted by `key`, so
// re-running a day changes nothing.
// JSON paths: `$` (the document), `.name` or `['name']` (a member), `[N]` (an element), `[*]` (every
// element, flattening). `$.items` that names an array yields its elements as the rows; an object yields one
// row.
// Header values from env vars go to the HttpClient's default headers, which it never logs.
// A value that does not convert to its column type becomes NULL and the run notes how many did, rather than
// failing a whole day over one odd record.
// Thread-safety: functions of their arguments.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collect/collector_config.h"
#include "collect/collector_output.h"
#include "core/http_client.h"
#include "core/status.h"

namespace sluice {

// Evaluates JSON path `path` on `doc`: every value it selects, in document order. Invalid for a malformed
// path; a path that selects nothing yields an empty list.
Result<std::vector<nlohmann::json>> JsonPathSelect(const nlohmann::json& doc, std::string_view path);
// Checks a JSON path's syntax ("" when fine, else why not).
std::string JsonPathError(std::string_view path);

// The {{names}} a template uses, in order ("date", "env.X", var names).
std::vector<std::string> TemplateNames(std::string_view text);
// Expands a template; NotFound naming the variable when an env var or var is missing.
Result<std::string> ExpandTemplate(std::string_view text, const std::string& date,
                                   const std::map<std::string, std::string>& vars);

// Converts a JSON value to the SQL-ready value of `type` (see collect_loader's literals); null when it
// does not convert.
nlohmann::json ConvertJsonValue(const nlohmann::json& v, const std::string& type);

// An http_json collector's table: its fields plus collected_at and run_id, keyed by its `key`.
KeyedTable HttpJsonTable(const HttpJsonCollectorConfig& config);

// Headers to send: literal values and env-var values (NotFound naming the variable when one is unset).
Result<HttpHeaders> HttpJsonHeaders(const HttpJsonCollectorConfig& config);

// The row objects `config.rows` selects in one page (an array it names yields its elements).
Result<std::vector<nlohmann::json>> SelectRows(const nlohmann::json& page, const HttpJsonCollectorConfig& config);

// Runs one collection: rows of `config.table` stamped with `run_id` and `collected_at`, whose UTC date is
// {{date}}. The output also carries the table's DDL and key, so the loader can create and upsert it.
// `client` should have been built with HttpJsonHeaders as its default headers.
Result<CollectorOutput> CollectHttpJson(HttpClient& client, const HttpJsonCollectorConfig& config,
                                        const std::string& run_id, TimePoint collected_at);

}  // namespace sluice
