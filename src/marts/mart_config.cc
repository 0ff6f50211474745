#include "marts/mart_config.h"

#include <cctype>
#include <set>

#include "core/config_reader.h"

namespace sluice {

namespace {

// PostgreSQL names sluice creates are plain identifiers: no quoting surprises, at most 63 bytes.
bool PlainIdentifier(const std::string& s) {
  if (s.empty() || s.size() > 63 || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

void ReadMart(ConfigReader& r, const std::vector<TransformTarget>& targets, const std::string& name,
              const YAML::Node& n, std::vector<MartConfig>& out) {
  std::string path = JoinPath("marts", name);
  if (!n.IsMap()) {
    r.Error(n, path, "expected a map with from and postgres");
    return;
  }
  r.CheckKeys(n, path, {"from", "postgres"});
  MartConfig m;
  m.name = name;
  if (auto from = r.String(n, "from", path, true)) {
    m.from = *from;
    const TransformTarget* target = nullptr;
    for (const auto& t : targets)
      if (t.name == m.from) target = &t;
    if (!target) {
      r.Error(n["from"], JoinPath(path, "from"), "'" + m.from + "' is not a rollup or model");
    } else if (target->rollup) {
      m.bucket = target->rollup->grain;
      m.day_buckets = target->rollup->grain == "day";
    } else {
      m.bucket = target->model->time_column;  // empty: the model is rebuilt whole, and so is the mart
    }
  }
  std::string pg_path = JoinPath(path, "postgres");
  const YAML::Node pg = n["postgres"];
  if (!pg.IsDefined()) {
    r.Error(n, pg_path, "required: { url_env: VAR, table: schema.name }");
  } else if (!pg.IsMap()) {
    r.Error(pg, pg_path, "expected a map with url_env and table");
  } else {
    r.CheckKeys(pg, pg_path, {"url_env", "table"});
    m.url_env = r.String(pg, "url_env", pg_path, true).value_or("");
    if (pg["url_env"].IsDefined() && !m.url_env.empty() && !PlainIdentifier(m.url_env))
      r.Error(pg["url_env"], JoinPath(pg_path, "url_env"), "expected the name of an environment variable");
    if (auto table = r.String(pg, "table", pg_path, true)) {
      size_t dot = table->find('.');
      m.schema = dot == std::string::npos ? "public" : table->substr(0, dot);
      m.table = dot == std::string::npos ? *table : table->substr(dot + 1);
      if (!PlainIdentifier(m.schema) || !PlainIdentifier(m.table))
        r.Error(pg["table"], JoinPath(pg_path, "table"),
                "expected schema.name of letters, digits and _ (got '" + *table + "')");
    }
  }
  out.push_back(std::move(m));
}

}  // namespace

Result<std::vector<MartConfig>> ParseMarts(const Config& config, const std::vector<TransformTarget>& targets) {
  std::vector<MartConfig> out;
  const YAML::Node& marts = config.marts;
  if (!marts.IsDefined() || marts.IsNull()) return out;
  ConfigReader r(config.file);
  if (!marts.IsMap()) {
    r.Error(marts, "marts", "expected a map of mart names");
    return r.ToStatus();
  }
  for (const auto& kv : marts) ReadMart(r, targets, kv.first.Scalar(), kv.second, out);
  // Two marts writing one table would delete each other's rows.
  std::set<std::string> tables;
  for (size_t i = 0; i < out.size(); ++i) {
    std::string key = out[i].url_env + " " + out[i].schema + "." + out[i].table;
    if (!out[i].table.empty() && !tables.insert(key).second) {
      const YAML::Node n = marts[out[i].name];
      r.Error(n["postgres"]["table"], JoinPath(JoinPath("marts", out[i].name), "postgres.table"),
              "table " + out[i].schema + "." + out[i].table + " is already the table of another mart");
    }
  }
  RETURN_IF_ERROR(r.ToStatus());
  return out;
}

}  // namespace sluice
