// CollectorConfig: the `collectors:` section of the pipeline config, one entry per named collector
// (DESIGN.md semantics 6). Three kinds:
//   github:    { kind: github, schedule: "0 3 * * *", org: acme | repos: [a/b], token_env: GITHUB_TOKEN,
//                base_url: https://api.github.com, graphql_path: /graphql, traffic: true, releases: true }
//   dockerhub: { kind: dockerhub, namespace: vesoft, page_size: 100, base_url: https://hub.docker.com }
//   <name>:    { kind: http_json, url: "https://x/api?day={{date}}", vars: {...}, headers: {...},
//                rows: "$.data[*]", fields: {...}, key: [...], pagination: link | next_field: $.next,
//                table: <name> }   (see http_json_collector.h)
// Every kind also takes schedule (default @daily), timezone (default UTC), timeout (default 1h), token_env,
// base_url, max_attempts (default 5) and backoff (first retry delay, default 1s).
// Read through a ConfigReader so every mistake is reported with file:line:column and the field path; the
// schedule is parsed here, so a bad cron expression is a config error, not a 3 a.m. surprise.
// Values; immutable after reading, thread-safe to share.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "collect/cron.h"
#include "collect/dockerhub_collector.h"
#include "collect/github_collector.h"
#include "core/config_reader.h"
#include "core/http_pagination.h"
#include "core/status.h"

namespace sluice {

// One output column of an http_json collector: where it is in each row object and its SQL type.
struct HttpJsonField {
  std::string name;
  std::string path;  // "$.a.b" relative to the row
  std::string type;  // int64 | string | float64 | bool | timestamp | date | json
  // Set instead of path: the same value in every row, a template of {{date}} and vars expanded per run. For
  // what the API leaves out of its rows: the day of a snapshot (so the key can hold it), the package asked for.
  std::optional<std::string> value;
};

// A request header: a literal value, or `prefix` + the value of env var `env` read at run time (a secret
// that must never reach the config file or a log line).
struct HttpJsonHeader {
  std::string name;
  std::string value;
  std::string env;
  std::string prefix;
};

struct HttpJsonCollectorConfig {
  std::string url;                          // may hold {{date}}, {{env.NAME}} and {{var}} from `vars`
  std::map<std::string, std::string> vars;  // values may themselves use {{date}} and {{env.NAME}}
  std::vector<HttpJsonHeader> headers;
  std::string rows = "$";                   // JSON path of the rows in each page
  std::vector<HttpJsonField> fields;
  std::vector<std::string> key;             // natural key; default: every field
  Pagination pagination = Pagination::kNone;
  std::string next_field;                   // dotted path for kNextField ("next", "links.next")
  int max_pages = 1000;
  std::string table;                        // default: the collector's name
};

struct CollectorConfig {
  std::string name;
  std::string kind;  // github | dockerhub | http_json
  std::optional<CronSchedule> schedule;  // set whenever reading succeeded
  std::string timezone = "UTC";
  std::chrono::seconds timeout{3600};
  std::string token_env;  // env var with the API token ("Authorization: Bearer <token>")
  std::string base_url;   // default per kind; tests and GitHub Enterprise override it
  int max_attempts = 5;   // per request, for connection errors, timeouts and 5xx (HttpClient)
  std::chrono::milliseconds backoff{1000};  // first retry delay, doubling
  GitHubCollectorConfig github;
  DockerHubCollectorConfig dockerhub;
  HttpJsonCollectorConfig http_json;
};

// Reads `collectors` (a map name -> collector; null or absent means none), recording errors in `r`.
std::vector<CollectorConfig> ReadCollectors(ConfigReader& r, const YAML::Node& collectors);
// Same, as a Result: Invalid with one "file:line:col: field: message" per line.
Result<std::vector<CollectorConfig>> ReadCollectors(const YAML::Node& collectors, const std::string& file);

// The default API base URL of a kind ("" for http_json, whose url is absolute).
std::string DefaultBaseUrl(const std::string& kind);

}  // namespace sluice
