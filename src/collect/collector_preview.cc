#include "collect/collector_preview.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <string_view>

#include "collect/collect_tables.h"
#include "collect/collector_runner.h"
#include "collect/http_json_collector.h"
#include "core/time.h"

namespace sluice {
namespace {

using nlohmann::json;

std::optional<int64_t> ParseSeconds(const std::string& text) {
  int64_t v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || ptr == text.data()) return std::nullopt;
  return v;
}

// "76;w=21600" (the IETF draft's policy suffix) -> "76".
std::string Quota(std::string v) { return v.substr(0, v.find(';')); }

std::string Header(const HttpHeaders& headers, const std::string& name) {
  for (const auto& [n, v] : headers)
    if (n == name) return v;
  return "";
}

std::string InHowLong(int64_t seconds) {
  if (seconds < 0) return "passed";
  if (seconds < 120) return "in " + std::to_string(seconds) + " s";
  return "in " + std::to_string((seconds + 30) / 60) + " min";
}

bool IsMapped(const HttpJsonCollectorConfig& config, const std::string& member) {
  for (const HttpJsonField& f : config.fields) {
    if (f.value) continue;
    for (const std::string& prefix : {"$." + member, "$['" + member + "']", "$[\"" + member + "\"]"}) {
      if (f.path.rfind(prefix, 0) != 0) continue;
      if (f.path.size() == prefix.size() || f.path[prefix.size()] == '.' || f.path[prefix.size()] == '[') return true;
    }
  }
  return false;
}

// The members of every row object the pages' `rows:` selects, typed from their values, in the order met (an
// object's members in name order: nlohmann::json keeps them sorted).
std::vector<RowMember> RowMembers(const HttpJsonCollectorConfig& config, const std::vector<LandedResponse>& pages) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<json>> values;
  for (const LandedResponse& page : pages) {
    if (page.status < 200 || page.status >= 300) continue;
    json doc = json::parse(page.body, nullptr, false);
    if (doc.is_discarded()) continue;
    auto rows = SelectRows(doc, config);
    if (!rows.ok()) continue;
    for (const json& item : *rows) {
      if (!item.is_object()) continue;
      for (const auto& [name, v] : item.items()) {
        if (!values.count(name)) order.push_back(name);
        values[name].push_back(v);
      }
    }
  }
  std::vector<RowMember> out;
  for (const std::string& name : order) {
    RowMember m{name, InferColumnType(values[name]), "", IsMapped(config, name)};
    for (const json& v : values[name]) {
      if (v.is_null()) continue;
      m.example = v.dump(-1, ' ', false, json::error_handler_t::replace);
      if (m.example.size() > 40) m.example = m.example.substr(0, 39) + "…";
      break;
    }
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<std::string> FirstPageMembers(const std::vector<LandedResponse>& pages) {
  for (const LandedResponse& page : pages) {
    if (page.status < 200 || page.status >= 300) continue;
    json doc = json::parse(page.body, nullptr, false);
    if (doc.is_discarded()) return {"(not JSON)"};
    if (!doc.is_object()) return {"(" + std::string(doc.type_name()) + ")"};
    std::vector<std::string> names;
    for (const auto& [name, v] : doc.items()) names.push_back(name + " (" + v.type_name() + ")");
    return names;
  }
  return {};
}

// Env var values that may show in a URL or an error (the URL template's {{env.NAME}}, directly or through
// vars, and the token), each with the text that replaces it.
std::vector<std::pair<std::string, std::string>> Secrets(const CollectorConfig& config) {
  std::vector<std::string> names;
  if (!config.token_env.empty()) names.push_back(config.token_env);
  std::vector<std::string> used = TemplateNames(config.http_json.url);
  for (const auto& [var, value] : config.http_json.vars) {
    for (const std::string& n : TemplateNames(value)) used.push_back(n);
  }
  for (const std::string& n : used) {
    if (n.rfind("env.", 0) == 0) names.push_back(n.substr(4));
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& n : names) {
    const char* v = std::getenv(n.c_str());
    // Shorter values are not secrets worth hiding, and would garble every URL holding them.
    if (v && std::string_view(v).size() >= 4) out.emplace_back(v, "<env." + n + ">");
  }
  return out;
}

std::string Hide(std::string text, const std::vector<std::pair<std::string, std::string>>& secrets) {
  for (const auto& [value, name] : secrets) {
    for (size_t at; (at = text.find(value)) != std::string::npos;) text.replace(at, value.size(), name);
  }
  return text;
}

}  // namespace

std::string InferColumnType(const std::vector<json>& values) {
  bool any = false, all_int = true, all_number = true, all_bool = true, all_date = true, all_time = true,
       any_nested = false;
  for (const json& v : values) {
    if (v.is_null()) continue;
    any = true;
    all_int = all_int && v.is_number_integer();
    all_number = all_number && v.is_number();
    all_bool = all_bool && v.is_boolean();
    any_nested = any_nested || v.is_object() || v.is_array();
    const std::string* s = v.is_string() ? &v.get_ref<const std::string&>() : nullptr;
    const bool date = s && s->size() == 10 && ParseIsoDate(*s).has_value();
    all_date = all_date && date;
    all_time = all_time && s && !date && s->find('T') != std::string::npos && ParseIsoMicros(*s).has_value();
  }
  if (!any) return "string";  // only nulls: nothing to go by
  if (any_nested) return "json";
  if (all_bool) return "bool";
  if (all_int) return "int64";
  if (all_number) return "float64";
  if (all_date) return "date";
  if (all_time) return "timestamp";
  return "string";
}

std::optional<RateLimitState> ReadRateLimit(const HttpHeaders& headers, TimePoint now) {
  if (headers.empty()) return std::nullopt;
  RateLimitState s;
  const bool github_style =
      !Header(headers, "x-ratelimit-remaining").empty() || !Header(headers, "x-ratelimit-reset").empty();
  const std::string prefix = github_style ? "x-ratelimit-" : "ratelimit-";
  s.remaining = Quota(Header(headers, prefix + "remaining"));
  s.limit = Quota(Header(headers, prefix + "limit"));
  s.reset = Header(headers, prefix + "reset");
  s.retry_after = Header(headers, "retry-after");
  if (s.retry_after.empty()) s.retry_after = Header(headers, "x-retry-after");
  const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  if (auto reset = ParseSeconds(s.reset)) {
    // x-ratelimit-reset is a Unix time (GitHub, Docker Hub); the IETF draft's ratelimit-reset is a delay.
    const int64_t at = github_style ? *reset : now_s + *reset;
    s.reset_at = FormatSqlTimestamp(at * 1'000'000) + " UTC (" + InHowLong(at - now_s) + ")";
  }
  return s;
}

Result<CollectorPreview> PreviewCollector(const CollectorConfig& config, TimePoint at, Clock* clock) {
  RunContext ctx;
  ctx.collector = config.name;
  ctx.run_id = config.name + "/dry-run";
  ctx.scheduled = at;
  ctx.clock = clock;
  // No ETag cache: nothing is stored, and every page comes back in full.
  ASSIGN_OR_RETURN(HttpClientOptions http, CollectorHttpOptions(config, ctx, nullptr));
  HttpClient client(std::move(http));
  ASSIGN_OR_RETURN(CollectorOutput out, CollectOnce(config, client, ctx));

  CollectorPreview p;
  for (const auto& [name, rows] : out.rows) {
    auto defined = out.tables.find(name);
    const KeyedTable* table = defined != out.tables.end() ? &defined->second : FindCollectTable(name);
    if (!table) return Status::Internal("no collect table named " + name);
    p.tables.push_back({*table, rows});
  }
  for (const auto& [name, table] : out.tables)
    if (!out.rows.count(name)) p.tables.push_back({table, {}});
  const auto secrets = Secrets(config);
  for (const LandedResponse& r : out.responses) {
    p.pages.push_back({Hide(RedactUrl(r.url), secrets), r.status, r.from_cache, r.body.size()});
    if (auto limit = ReadRateLimit(r.rate_limit_headers, r.fetched_at)) {
      limit->url = p.pages.back().url;
      p.rate_limit = std::move(limit);
    }
  }
  if (config.kind == "http_json") {
    p.row_members = RowMembers(config.http_json, out.responses);
    if (p.row_members.empty()) p.page_members = FirstPageMembers(out.responses);
  }
  for (const std::string& note : out.notes) p.notes.push_back(Hide(note, secrets));  // skipped parts among them
  for (const FailedPart& f : out.failed) p.failed.push_back(Hide(f.part + ": " + f.error.message(), secrets));
  p.parts_ok = out.parts_ok;
  return p;
}

}  // namespace sluice
