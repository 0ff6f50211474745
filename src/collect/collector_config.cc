#include "collect/collector_config.h"

#include <cctype>
#include <set>

#include "collect/http_json_collector.h"

namespace sluice {
namespace {

constexpr const char* kTypes[] = {"int64", "string", "float64", "bool", "timestamp", "date", "json"};

bool IsType(const std::string& t) {
  for (const char* k : kTypes) {
    if (t == k) return true;
  }
  return false;
}

// Table and column names go into SQL unquoted in places: keep them plain identifiers.
bool IsIdentifier(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// Checks that every {{name}} in `text` is date, env.X or a var.
void CheckTemplate(ConfigReader& r, const YAML::Node& at, const std::string& path, const std::string& text,
                   const std::map<std::string, std::string>& vars) {
  for (const std::string& n : TemplateNames(text)) {
    if (n == "date" || (n.rfind("env.", 0) == 0 && n.size() > 4) || vars.count(n)) continue;
    r.Error(at, path, "unknown template variable {{" + n + "}} (expected date, env.NAME or one of vars)");
  }
}

void ReadHttpJson(ConfigReader& r, const YAML::Node& n, const std::string& path, CollectorConfig& c) {
  HttpJsonCollectorConfig& h = c.http_json;
  h.table = c.name;
  if (auto t = r.String(n, "table", path)) {
    h.table = *t;
    if (!IsIdentifier(h.table)) r.Error(n["table"], JoinPath(path, "table"), "not a plain table name: '" + *t + "'");
  } else if (!IsIdentifier(h.table)) {
    r.Error(n, path, "collector name '" + c.name + "' is not a plain table name: set table:");
  }
  if (const YAML::Node vars = n["vars"]; vars.IsDefined() && !vars.IsNull()) {
    if (!vars.IsMap()) {
      r.Error(vars, JoinPath(path, "vars"), "expected a map of name: value");
    } else {
      for (const auto& kv : vars) {
        const std::string name = kv.first.as<std::string>();
        if (!kv.second.IsScalar()) {
          r.Error(kv.second, JoinPath(JoinPath(path, "vars"), name), "expected a string");
          continue;
        }
        h.vars[name] = kv.second.as<std::string>();
      }
      for (const auto& [name, value] : h.vars) {
        for (const std::string& used : TemplateNames(value)) {
          if (used != "date" && used.rfind("env.", 0) != 0)
            r.Error(vars[name], JoinPath(JoinPath(path, "vars"), name),
                    "vars may use only {{date}} and {{env.NAME}}, not {{" + used + "}}");
        }
      }
    }
  }
  if (auto url = r.String(n, "url", path, true)) {
    h.url = *url;
    CheckTemplate(r, n["url"], JoinPath(path, "url"), h.url, h.vars);
  }
  if (const YAML::Node headers = n["headers"]; headers.IsDefined() && !headers.IsNull()) {
    if (!headers.IsMap()) {
      r.Error(headers, JoinPath(path, "headers"), "expected a map of header: value or {env: NAME, prefix: ...}");
    } else {
      for (const auto& kv : headers) {
        HttpJsonHeader hd;
        hd.name = kv.first.as<std::string>();
        const std::string hpath = JoinPath(JoinPath(path, "headers"), hd.name);
        if (kv.second.IsScalar()) {
          hd.value = kv.second.as<std::string>();
        } else if (kv.second.IsMap()) {
          r.CheckKeys(kv.second, hpath, {"env", "prefix"});
          if (auto env = r.String(kv.second, "env", hpath, true)) hd.env = *env;
          if (auto prefix = r.String(kv.second, "prefix", hpath)) hd.prefix = *prefix;
        } else {
          r.Error(kv.second, hpath, "expected a value or {env: NAME, prefix: ...}");
        }
        h.headers.push_back(std::move(hd));
      }
    }
  }
  if (auto rows = r.String(n, "rows", path)) {
    h.rows = *rows;
    if (std::string why = JsonPathError(h.rows); !why.empty()) r.Error(n["rows"], JoinPath(path, "rows"), why);
  }
  const YAML::Node fields = n["fields"];
  if (!fields.IsDefined() || fields.IsNull()) {
    r.Error(n, JoinPath(path, "fields"), "required field is missing");
  } else if (!fields.IsMap()) {
    r.Error(fields, JoinPath(path, "fields"), "expected a map of column: type or {path: $.a.b, type: T}");
  } else {
    for (const auto& kv : fields) {
      HttpJsonField f;
      f.name = kv.first.as<std::string>();
      const std::string fpath = JoinPath(JoinPath(path, "fields"), f.name);
      if (!IsIdentifier(f.name)) r.Error(kv.first, fpath, "not a plain column name");
      if (f.name == "collected_at" || f.name == "run_id") r.Error(kv.first, fpath, "reserved column name");
      if (kv.second.IsScalar()) {
        f.type = kv.second.as<std::string>();
        f.path = "$." + f.name;
      } else if (kv.second.IsMap()) {
        r.CheckKeys(kv.second, fpath, {"path", "type", "value"});
        f.path = r.String(kv.second, "path", fpath).value_or("$." + f.name);
        // A value is text unless said otherwise; a path's type must be given.
        f.type = r.String(kv.second, "type", fpath, !kv.second["value"].IsDefined()).value_or("string");
        if ((f.value = r.String(kv.second, "value", fpath))) {
          if (kv.second["path"].IsDefined())
            r.Error(kv.second["value"], JoinPath(fpath, "value"), "set path (from each row) or value, not both");
          for (const std::string& used : TemplateNames(*f.value)) {
            if (used == "date" || (h.vars.count(used) && h.vars[used].find("{{env.") == std::string::npos)) continue;
            // An env var is how secrets reach a config: it must not become a column.
            r.Error(kv.second["value"], JoinPath(fpath, "value"),
                    "value may use only {{date}} and vars without env, not {{" + used + "}}");
          }
        }
      } else {
        r.Error(kv.second, fpath, "expected a type or {path: $.a.b, type: T}");
        continue;
      }
      if (!IsType(f.type))
        r.Error(kv.second.IsMap() ? kv.second["type"] : kv.second, fpath,
                "unknown type '" + f.type + "' (expected int64, string, float64, bool, timestamp, date or json)");
      if (std::string why = JsonPathError(f.path); !why.empty() && !f.value) r.Error(kv.second, fpath, why);
      for (const std::string& used : f.value ? std::vector<std::string>{} : TemplateNames(f.path)) {
        if (used != "date" && !h.vars.count(used))
          r.Error(kv.second, fpath, "a path may use only {{date}} and vars, not {{" + used + "}}");
      }
      h.fields.push_back(std::move(f));
    }
  }
  if (n["key"].IsDefined()) {
    h.key = r.StringList(n, "key", path);
    for (const std::string& k : h.key) {
      bool known = false;
      for (const HttpJsonField& f : h.fields) known = known || f.name == k;
      if (!known) r.Error(n["key"], JoinPath(path, "key"), "'" + k + "' is not one of fields");
    }
  } else {
    for (const HttpJsonField& f : h.fields) h.key.push_back(f.name);
  }
  std::optional<std::string> next_field = r.String(n, "next_field", path);
  std::string style = r.String(n, "pagination", path).value_or(next_field ? "next_field" : "none");
  if (style == "none") {
    h.pagination = Pagination::kNone;
  } else if (style == "link") {
    h.pagination = Pagination::kLinkHeader;
  } else if (style == "next_field") {
    h.pagination = Pagination::kNextField;
    std::string f = next_field.value_or("$.next");
    if (f.rfind("$.", 0) == 0) f = f.substr(2);
    if (f.empty() || f.find_first_of("[]*$") != std::string::npos)
      r.Error(n["next_field"], JoinPath(path, "next_field"), "expected a dotted path like $.next or $.links.next");
    h.next_field = f;
  } else {
    r.Error(n["pagination"], JoinPath(path, "pagination"), "expected link, next_field or none, not '" + style + "'");
  }
  if (auto mp = r.Int(n, "max_pages", path)) h.max_pages = static_cast<int>(*mp);
}

CollectorConfig ReadOne(ConfigReader& r, const std::string& name, const YAML::Node& n) {
  const std::string path = JoinPath("collectors", name);
  CollectorConfig c;
  c.name = name;
  if (!n.IsMap()) {
    r.Error(n, path, "expected a map with kind: github | dockerhub | http_json");
    return c;
  }
  c.kind = r.String(n, "kind", path, true).value_or("");
  if (auto tz = r.String(n, "timezone", path)) c.timezone = *tz;
  if (auto t = r.Duration(n, "timeout", path)) {
    if (*t < 1'000'000) r.Error(n["timeout"], JoinPath(path, "timeout"), "must be at least 1s");
    c.timeout = std::chrono::seconds(std::max<int64_t>(1, *t / 1'000'000));
  }
  if (auto t = r.String(n, "token_env", path)) c.token_env = *t;
  if (auto a = r.Int(n, "max_attempts", path)) {
    if (*a < 1 || *a > 20) r.Error(n["max_attempts"], JoinPath(path, "max_attempts"), "must be 1 to 20");
    c.max_attempts = static_cast<int>(*a);
  }
  if (auto b = r.Duration(n, "backoff", path)) c.backoff = std::chrono::milliseconds(*b / 1000);
  c.base_url = r.String(n, "base_url", path).value_or(DefaultBaseUrl(c.kind));
  const std::string expr = r.String(n, "schedule", path).value_or("@daily");
  auto schedule = CronSchedule::Parse(expr, c.timezone);
  if (schedule.ok()) {
    c.schedule = std::move(*schedule);
  } else {
    const YAML::Node at = n["schedule"].IsDefined() ? n["schedule"] : n["timezone"];
    r.Error(at.IsDefined() ? at : n, JoinPath(path, n["schedule"].IsDefined() ? "schedule" : "timezone"),
            schedule.status().message());
  }
  if (c.kind == "github") {
    r.CheckKeys(n, path, {"kind", "schedule", "timezone", "timeout", "token_env", "base_url", "max_attempts", "backoff", "org", "repos",
                          "graphql_path", "traffic", "releases"});
    if (auto org = r.String(n, "org", path)) c.github.org = *org;
    if (n["repos"].IsDefined()) c.github.repos = r.StringList(n, "repos", path);
    if (c.github.org.empty() == c.github.repos.empty())
      r.Error(n, JoinPath(path, "org"), "set exactly one of org (every repository of it) or repos: [owner/name]");
    for (const std::string& repo : c.github.repos) {
      if (repo.find('/') == std::string::npos || repo.front() == '/' || repo.back() == '/')
        r.Error(n["repos"], JoinPath(path, "repos"), "expected owner/name, not '" + repo + "'");
    }
    if (auto g = r.String(n, "graphql_path", path)) c.github.graphql_path = *g;
    if (auto t = r.Bool(n, "traffic", path)) c.github.traffic = *t;
    if (auto t = r.Bool(n, "releases", path)) c.github.releases = *t;
  } else if (c.kind == "dockerhub") {
    r.CheckKeys(n, path, {"kind", "schedule", "timezone", "timeout", "token_env", "base_url", "max_attempts", "backoff", "namespace",
                          "page_size"});
    c.dockerhub.namespace_name = r.String(n, "namespace", path, true).value_or("");
    if (auto ps = r.Int(n, "page_size", path)) {
      if (*ps < 1 || *ps > 100) r.Error(n["page_size"], JoinPath(path, "page_size"), "must be 1 to 100");
      c.dockerhub.page_size = static_cast<int>(*ps);
    }
  } else if (c.kind == "http_json") {
    r.CheckKeys(n, path, {"kind", "schedule", "timezone", "timeout", "token_env", "base_url", "max_attempts", "backoff", "url", "vars",
                          "headers", "rows", "fields", "key", "pagination", "next_field", "max_pages", "table"});
    ReadHttpJson(r, n, path, c);
  } else if (!c.kind.empty()) {
    r.Error(n["kind"], JoinPath(path, "kind"), "unknown kind '" + c.kind + "' (expected github, dockerhub or http_json)");
  }
  return c;
}

}  // namespace

std::string DefaultBaseUrl(const std::string& kind) {
  if (kind == "github") return "https://api.github.com";
  if (kind == "dockerhub") return "https://hub.docker.com";
  return "";
}

std::vector<CollectorConfig> ReadCollectors(ConfigReader& r, const YAML::Node& collectors) {
  std::vector<CollectorConfig> out;
  if (!collectors.IsDefined() || collectors.IsNull()) return out;
  if (!collectors.IsMap()) {
    r.Error(collectors, "collectors", "expected a map of name: {kind: ..., ...}");
    return out;
  }
  std::set<std::string> tables;
  for (const auto& kv : collectors) {
    CollectorConfig c = ReadOne(r, kv.first.as<std::string>(), kv.second);
    if (c.kind == "http_json" && !tables.insert(c.http_json.table).second)
      r.Error(kv.second, JoinPath("collectors", c.name), "table '" + c.http_json.table + "' is used by another collector");
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::vector<CollectorConfig>> ReadCollectors(const YAML::Node& collectors, const std::string& file) {
  ConfigReader r(file);
  std::vector<CollectorConfig> out = ReadCollectors(r, collectors);
  RETURN_IF_ERROR(r.ToStatus());
  return out;
}

}  // namespace sluice
