#include "collect/http_json_collector.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <cstdlib>

#include "collect/collect_json.h"
#include "core/http_pagination.h"
#include "core/time.h"

namespace sluice {
namespace {

using nlohmann::json;

// One step of a parsed JSON path.
struct PathStep {
  enum Kind { kMember, kIndex, kAll } kind;
  std::string member;
  size_t index = 0;
};

Result<std::vector<PathStep>> ParsePath(std::string_view path) {
  auto bad = [&](const std::string& why) {
    return Status::Invalid("JSON path '" + std::string(path) + "': " + why);
  };
  if (path.empty() || path[0] != '$') return bad("must start with $");
  std::vector<PathStep> steps;
  size_t i = 1;
  while (i < path.size()) {
    if (path[i] == '.') {
      size_t j = i + 1;
      while (j < path.size() && path[j] != '.' && path[j] != '[') ++j;
      if (j == i + 1) return bad("empty member name at position " + std::to_string(i + 1));
      std::string name(path.substr(i + 1, j - i - 1));
      if (name == "*") {
        steps.push_back({PathStep::kAll, "", 0});
      } else {
        steps.push_back({PathStep::kMember, name, 0});
      }
      i = j;
    } else if (path[i] == '[') {
      size_t close = path.find(']', i);
      if (close == std::string_view::npos) return bad("unclosed [");
      std::string_view inner = path.substr(i + 1, close - i - 1);
      if (inner == "*") {
        steps.push_back({PathStep::kAll, "", 0});
      } else if (inner.size() >= 2 && (inner.front() == '\'' || inner.front() == '"') && inner.back() == inner.front()) {
        steps.push_back({PathStep::kMember, std::string(inner.substr(1, inner.size() - 2)), 0});
      } else if (!inner.empty() && inner.find_first_not_of("0123456789") == std::string_view::npos) {
        steps.push_back({PathStep::kIndex, "", static_cast<size_t>(std::stoull(std::string(inner)))});
      } else {
        return bad("expected [N], [*] or ['name'], not [" + std::string(inner) + "]");
      }
      i = close + 1;
    } else {
      return bad("unexpected '" + std::string(1, path[i]) + "' at position " + std::to_string(i + 1));
    }
  }
  return steps;
}

void Select(const json& v, const std::vector<PathStep>& steps, size_t at, std::vector<json>& out) {
  if (at == steps.size()) {
    out.push_back(v);
    return;
  }
  const PathStep& s = steps[at];
  switch (s.kind) {
    case PathStep::kMember:
      if (v.is_object() && v.contains(s.member)) Select(v[s.member], steps, at + 1, out);
      break;
    case PathStep::kIndex:
      if (v.is_array() && s.index < v.size()) Select(v[s.index], steps, at + 1, out);
      break;
    case PathStep::kAll:
      if (v.is_array()) {
        for (const json& e : v) Select(e, steps, at + 1, out);
      } else if (v.is_object()) {
        for (const auto& [k, e] : v.items()) Select(e, steps, at + 1, out);
      }
      break;
  }
}

std::optional<int64_t> ToInt(const json& v) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.2e18) return static_cast<int64_t>(d);
    return std::nullopt;
  }
  if (v.is_boolean()) return v.get<bool>() ? 1 : 0;
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    char* end = nullptr;
    errno = 0;
    long long n = std::strtoll(s.c_str(), &end, 10);
    if (!s.empty() && end && *end == '\0' && errno == 0) return n;
  }
  return std::nullopt;
}

std::optional<double> ToDouble(const json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end && *end == '\0' && std::isfinite(d)) return d;
  }
  return std::nullopt;
}

bool IsPlainDate(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

}  // namespace

Result<std::vector<json>> JsonPathSelect(const json& doc, std::string_view path) {
  ASSIGN_OR_RETURN(std::vector<PathStep> steps, ParsePath(path));
  std::vector<json> out;
  Select(doc, steps, 0, out);
  return out;
}

std::string JsonPathError(std::string_view path) {
  auto steps = ParsePath(path);
  return steps.ok() ? "" : steps.status().message();
}

std::vector<std::string> TemplateNames(std::string_view text) {
  std::vector<std::string> names;
  for (size_t at = text.find("{{"); at != std::string_view::npos; at = text.find("{{", at + 2)) {
    size_t end = text.find("}}", at + 2);
    if (end == std::string_view::npos) break;
    std::string name(text.substr(at + 2, end - at - 2));
    while (!name.empty() && name.front() == ' ') name.erase(name.begin());
    while (!name.empty() && name.back() == ' ') name.pop_back();
    names.push_back(name);
  }
  return names;
}

Result<std::string> ExpandTemplate(std::string_view text, const std::string& date,
                                   const std::map<std::string, std::string>& vars) {
  std::string out;
  size_t pos = 0;
  for (size_t at = text.find("{{"); at != std::string_view::npos; at = text.find("{{", pos)) {
    size_t end = text.find("}}", at + 2);
    if (end == std::string_view::npos) break;
    out.append(text.substr(pos, at - pos));
    std::string name(text.substr(at + 2, end - at - 2));
    while (!name.empty() && name.front() == ' ') name.erase(name.begin());
    while (!name.empty() && name.back() == ' ') name.pop_back();
    if (name == "date") {
      out += date;
    } else if (name.rfind("env.", 0) == 0) {
      const char* v = std::getenv(name.substr(4).c_str());
      if (!v) return Status::NotFound("environment variable " + name.substr(4) + " is not set");
      out += v;
    } else if (auto it = vars.find(name); it != vars.end()) {
      // vars may use {{date}} and {{env.NAME}} themselves (the config reader allows nothing deeper).
      ASSIGN_OR_RETURN(std::string value, ExpandTemplate(it->second, date, {}));
      out += value;
    } else {
      return Status::NotFound("unknown template variable {{" + name + "}}");
    }
    pos = end + 2;
  }
  out.append(text.substr(std::min(pos, text.size())));
  return out;
}

json ConvertJsonValue(const json& v, const std::string& type) {
  if (v.is_null()) return nullptr;
  if (type == "int64") {
    auto n = ToInt(v);
    return n ? json(*n) : json();
  }
  if (type == "float64") {
    auto d = ToDouble(v);
    return d ? json(*d) : json();
  }
  if (type == "bool") {
    if (v.is_boolean()) return v;
    if (v.is_number_integer()) return v.get<int64_t>() != 0;
    if (v.is_string()) {
      const std::string& s = v.get_ref<const std::string&>();
      if (s == "true" || s == "1") return true;
      if (s == "false" || s == "0") return false;
    }
    return nullptr;
  }
  if (type == "timestamp") {
    if (v.is_string()) {
      if (IsPlainDate(v.get<std::string>())) return v.get<std::string>() + " 00:00:00";
      return SqlTimestamp(v);
    }
    // Numbers are Unix seconds, the common API convention (with fractions for sub-second precision).
    if (auto d = ToDouble(v))
      return SqlTimestamp(TimePoint(std::chrono::microseconds(static_cast<int64_t>(std::llround(*d * 1e6)))));
    return nullptr;
  }
  if (type == "date") {
    if (v.is_string()) {
      if (IsPlainDate(v.get<std::string>())) return v;
      return SqlDate(v);
    }
    if (auto d = ToDouble(v))
      return SqlDate(TimePoint(std::chrono::microseconds(static_cast<int64_t>(std::llround(*d * 1e6)))));
    return nullptr;
  }
  if (type == "json") return v.dump();  // JSON text; the JSON column parses it
  // string: text as is, anything else as its JSON text.
  return v.is_string() ? v : json(v.dump());
}

KeyedTable HttpJsonTable(const HttpJsonCollectorConfig& config) {
  KeyedTable t{config.table, {}, config.key};
  for (const HttpJsonField& f : config.fields) {
    Field field{f.name, {}};
    ParseScalarType(f.type, field.type);  // the config reader accepted only known type names
    t.columns.push_back(std::move(field));
  }
  t.columns.push_back({"collected_at", {TypeKind::kTimestamp}});
  t.columns.push_back({"run_id", {TypeKind::kString}});
  return t;
}

Result<HttpHeaders> HttpJsonHeaders(const HttpJsonCollectorConfig& config) {
  HttpHeaders out;
  for (const HttpJsonHeader& h : config.headers) {
    if (h.env.empty()) {
      out.emplace_back(h.name, h.value);
      continue;
    }
    const char* v = std::getenv(h.env.c_str());
    if (!v) return Status::NotFound("header " + h.name + ": environment variable " + h.env + " is not set");
    out.emplace_back(h.name, h.prefix + v);
  }
  return out;
}

Result<std::vector<json>> SelectRows(const json& page, const HttpJsonCollectorConfig& config) {
  ASSIGN_OR_RETURN(std::vector<json> selected, JsonPathSelect(page, config.rows));
  // `$.items` naming an array means its elements, as `$.items[*]` does.
  if (selected.size() == 1 && selected[0].is_array()) selected = selected[0].get<std::vector<json>>();
  return selected;
}

Result<CollectorOutput> CollectHttpJson(HttpClient& client, const HttpJsonCollectorConfig& config,
                                        const std::string& run_id, TimePoint collected_at) {
  const std::string date = SqlDate(collected_at);
  ASSIGN_OR_RETURN(std::string url, ExpandTemplate(config.url, date, config.vars));
  PageOptions paging;
  paging.style = config.pagination;
  paging.next_field = config.next_field.empty() ? "next" : config.next_field;
  paging.max_pages = config.max_pages;
  // Each page is a part: a page that fails ends the run there (its next link is unknown); the pages before
  // it load and the run is partial.
  PagedFetch fetched = FetchPages(client, url, paging);

  CollectorOutput out;
  out.tables[config.table] = HttpJsonTable(config);
  std::vector<json>& rows = out.rows[config.table];
  const std::string stamp = SqlTimestamp(collected_at);
  int64_t unconverted = 0;
  // Fields with a value: the same in every row of the run. Paths may name a member by a var
  // ($.analytics.install['30d']['{{formula}}']).
  std::vector<json> constants(config.fields.size());
  std::vector<std::string> paths(config.fields.size());
  for (size_t i = 0; i < config.fields.size(); ++i) {
    const HttpJsonField& f = config.fields[i];
    if (!f.value) {
      ASSIGN_OR_RETURN(paths[i], ExpandTemplate(f.path, date, config.vars));
      continue;
    }
    ASSIGN_OR_RETURN(std::string text, ExpandTemplate(*f.value, date, config.vars));
    constants[i] = ConvertJsonValue(text, f.type);
    if (constants[i].is_null()) ++unconverted;
  }
  int page_no = 0;
  for (const HttpResponse& page : fetched.pages) {
    ++page_no;
    out.Land(page);
    auto parsed = ParseJsonBody(page.body, "http_json " + config.table + ": " + RedactUrl(page.url));
    if (!parsed.ok()) {
      out.failed.push_back({"page " + std::to_string(page_no) + " (" + RedactUrl(page.url) + ")", parsed.status(),
                            LandedResponse::From(page)});
      break;
    }
    ++out.parts_ok;
    ASSIGN_OR_RETURN(std::vector<json> selected, SelectRows(*parsed, config));
    for (const json& item : selected) {
      json row = json::object();
      for (size_t i = 0; i < config.fields.size(); ++i) {
        const HttpJsonField& f = config.fields[i];
        if (f.value) {
          row[f.name] = constants[i];
          continue;
        }
        ASSIGN_OR_RETURN(std::vector<json> found, JsonPathSelect(item, paths[i]));
        json raw = found.empty() ? json() : found.size() == 1 ? found[0] : json(found);
        json value = ConvertJsonValue(raw, f.type);
        if (value.is_null() && !raw.is_null()) ++unconverted;
        row[f.name] = std::move(value);
      }
      row["collected_at"] = stamp;
      row["run_id"] = run_id;
      rows.push_back(std::move(row));
    }
  }
  if (!fetched.status.ok()) {
    std::optional<LandedResponse> evidence;
    if (fetched.failed) {
      out.Land(*fetched.failed);
      evidence = LandedResponse::From(*fetched.failed);
    }
    out.failed.push_back({"page " + std::to_string(fetched.pages.size() + 1) + " (" +
                              RedactUrl(fetched.failed ? fetched.failed->url : client.Resolve(url)) + ")",
                          fetched.status.WithContext("http_json " + config.table), std::move(evidence)});
  }
  if (unconverted > 0) {
    out.notes.push_back(std::to_string(unconverted) + " value(s) did not convert to their column type and were loaded as NULL");
    spdlog::warn("http_json {}: {}", config.table, out.notes.back());
  }
  return out;
}

}  // namespace sluice
