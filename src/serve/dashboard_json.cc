#include "serve/dashboard_json.h"

#include "core/record_parser.h"

namespace sluice {
namespace {

void AppendField(std::string& out, const char* name, const std::string& value) {
  out += ",\"";
  out += name;
  out += "\":";
  AppendJsonString(out, value);
}

}  // namespace

std::string DashboardListJson(const std::vector<Dashboard>& dashboards, const std::string& reload_error) {
  std::string out = "{\"dashboards\":[";
  for (size_t i = 0; i < dashboards.size(); ++i) {
    const Dashboard& d = dashboards[i];
    out += i ? ",\n{\"name\":" : "\n{\"name\":";
    AppendJsonString(out, d.name);
    AppendField(out, "title", d.title);
    AppendField(out, "description", d.description);
    out += ",\"charts\":" + std::to_string(d.charts.size()) + "}";
  }
  out += "]";
  AppendField(out, "reload_error", reload_error);
  return out + "}\n";
}

std::string DashboardJson(const Dashboard& d, const std::string& reload_error) {
  std::string out = "{\"name\":";
  AppendJsonString(out, d.name);
  AppendField(out, "title", d.title);
  AppendField(out, "description", d.description);
  out += ",\"refresh_seconds\":" + std::to_string(d.refresh_us / 1'000'000) + ",\"charts\":[";
  for (size_t i = 0; i < d.charts.size(); ++i) {
    const ChartConfig& c = d.charts[i];
    out += (i ? ",\n{\"index\":" : "\n{\"index\":") + std::to_string(i);
    AppendField(out, "title", c.title);
    AppendField(out, "kind", ChartKindName(c.kind));
    AppendField(out, "x", c.x);
    out += ",\"y\":[";
    for (size_t k = 0; k < c.y.size(); ++k) {
      if (k) out += ",";
      AppendJsonString(out, c.y[k]);
    }
    out += "]";
    AppendField(out, "series", c.series);
    AppendField(out, "range", c.range);
    AppendField(out, "time", c.time);
    AppendField(out, "rollup", c.rollup);
    AppendField(out, "sql", c.QuerySql());
    out += "}";
  }
  out += "]";
  AppendField(out, "reload_error", reload_error);
  return out + "}\n";
}

}  // namespace sluice
