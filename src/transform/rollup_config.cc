#include "transform/rollup_config.h"

#include <set>

#include "core/config_reader.h"

namespace sluice {

namespace {

// "sum(col)" -> (kSum, "col"); "count" -> (kCount, ""). False when not a known form.
bool ParseMeasure(const std::string& text, MeasureFn& fn, std::string& column) {
  std::string t;
  for (char c : text)
    if (c != ' ') t += c;
  if (t == "count" || t == "count()" || t == "count(*)") {
    fn = MeasureFn::kCount;
    column.clear();
    return true;
  }
  size_t open = t.find('(');
  if (open == std::string::npos || t.back() != ')' || open + 2 > t.size() - 1) return false;
  std::string f = t.substr(0, open);
  column = t.substr(open + 1, t.size() - open - 2);
  if (f == "sum") fn = MeasureFn::kSum;
  else if (f == "min") fn = MeasureFn::kMin;
  else if (f == "max") fn = MeasureFn::kMax;
  else if (f == "avg") fn = MeasureFn::kAvg;
  else if (f == "approx_distinct" || f == "approx_count_distinct") fn = MeasureFn::kApproxDistinct;
  else return false;
  return !column.empty();
}

bool IsNumeric(const FieldType& t) { return t.kind == TypeKind::kInt64 || t.kind == TypeKind::kFloat64; }

void ReadRollup(ConfigReader& r, const Config& config, const std::string& name, const YAML::Node& n,
                std::vector<RollupConfig>& out) {
  std::string path = JoinPath("rollups", name);
  if (!n.IsMap()) {
    r.Error(n, path, "expected a map with stream, grain, dimensions, measures, pivot");
    return;
  }
  r.CheckKeys(n, path, {"stream", "grain", "dimensions", "measures", "pivot"});
  RollupConfig rc;
  rc.name = name;
  auto stream = r.String(n, "stream", path, true);
  if (stream) {
    rc.stream = config.FindStream(*stream);
    if (!rc.stream) r.Error(n["stream"], JoinPath(path, "stream"), "unknown stream '" + *stream + "'");
  }
  rc.grain = r.String(n, "grain", path).value_or("hour");
  if (rc.grain != "hour" && rc.grain != "day") r.Error(n["grain"], JoinPath(path, "grain"), "expected hour or day");

  std::set<std::string> columns = {rc.grain};
  auto add_output = [&](const YAML::Node& at, const std::string& field, const std::string& col) {
    if (!columns.insert(col).second)
      r.Error(at, JoinPath(path, field), "output column '" + col + "' is declared twice");
  };
  // Checks that `col` is a field of the stream; returns its type or null.
  auto field_of = [&](const YAML::Node& at, const std::string& field, const std::string& col) -> const Field* {
    if (!rc.stream) return nullptr;
    int i = rc.stream->schema.IndexOf(col);
    if (i < 0) {
      r.Error(at, JoinPath(path, field), "unknown column '" + col + "' of stream " + rc.stream->name);
      return nullptr;
    }
    return &rc.stream->schema.fields[i];
  };

  rc.dimensions = r.StringList(n, "dimensions", path);
  for (size_t i = 0; i < rc.dimensions.size(); ++i) {
    YAML::Node at = n["dimensions"].IsSequence() ? n["dimensions"][i] : n["dimensions"];
    field_of(at, "dimensions", rc.dimensions[i]);
    add_output(at, "dimensions", rc.dimensions[i]);
  }

  YAML::Node m = n["measures"];
  if (m.IsDefined() && !m.IsNull()) {
    if (!m.IsMap()) {
      r.Error(m, JoinPath(path, "measures"), "expected a map of name: count | sum(col) | min(col) | ...");
    } else {
      for (const auto& kv : m) {
        std::string mname = kv.first.Scalar();
        std::string mpath = JoinPath(JoinPath(path, "measures"), mname);
        Measure measure;
        measure.name = mname;
        if (!kv.second.IsScalar() || !ParseMeasure(kv.second.Scalar(), measure.fn, measure.column)) {
          r.Error(kv.second, mpath,
                  "expected count, sum(col), min(col), max(col), avg(col) or approx_distinct(col)");
          continue;
        }
        if (!measure.column.empty()) {
          const Field* f = field_of(kv.second, "measures." + mname, measure.column);
          if (f && (measure.fn == MeasureFn::kSum || measure.fn == MeasureFn::kAvg) && !IsNumeric(f->type))
            r.Error(kv.second, mpath, "column '" + measure.column + "' is " + f->type.Describe() + ", not a number");
        }
        add_output(kv.first, "measures." + mname, mname);
        rc.measures.push_back(std::move(measure));
      }
    }
  }

  YAML::Node p = n["pivot"];
  if (p.IsDefined() && !p.IsNull()) {
    std::string ppath = JoinPath(path, "pivot");
    r.CheckKeys(p, ppath, {"column", "values"});
    auto col = r.String(p, "column", ppath, true);
    if (col) {
      rc.pivot.column = *col;
      field_of(p["column"], "pivot.column", *col);
    }
    rc.pivot.values = r.StringList(p, "values", ppath);
    if (rc.pivot.values.empty()) r.Error(p, JoinPath(ppath, "values"), "expected at least one value");
    for (size_t i = 0; i < rc.pivot.values.size(); ++i)
      add_output(p["values"].IsSequence() ? p["values"][i] : p["values"], "pivot.values", rc.pivot.values[i]);
  }
  if (rc.measures.empty() && rc.pivot.column.empty())
    r.Error(n, path, "declares neither measures nor pivot: nothing to aggregate");
  out.push_back(std::move(rc));
}

}  // namespace

std::vector<std::string> RollupConfig::OutputColumns() const {
  std::vector<std::string> cols = {grain};
  cols.insert(cols.end(), dimensions.begin(), dimensions.end());
  for (const auto& m : measures) cols.push_back(m.name);
  cols.insert(cols.end(), pivot.values.begin(), pivot.values.end());
  return cols;
}

Result<std::vector<RollupConfig>> ParseRollups(const Config& config) {
  std::vector<RollupConfig> out;
  const YAML::Node& root = config.rollups;
  if (!root.IsDefined() || root.IsNull()) return out;
  ConfigReader r(config.file);
  if (!root.IsMap()) {
    r.Error(root, "rollups", "expected a map of rollup names");
    return r.ToStatus();
  }
  for (const auto& kv : root) {
    std::string name = kv.first.Scalar();
    if (config.FindStream(name) || name.rfind("raw_", 0) == 0 || name.rfind("_sluice", 0) == 0)
      r.Error(kv.first, JoinPath("rollups", name), "name is taken by a stream or a system table");
    ReadRollup(r, config, name, kv.second, out);
  }
  RETURN_IF_ERROR(r.ToStatus());
  return out;
}

}  // namespace sluice
