#include "transform/models.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "transform/rollup_sql.h"

namespace sluice {

namespace {

const std::regex& RefPattern() {
  static const std::regex re(R"(\{\{\s*ref\(\s*['"]([^'"]+)['"]\s*\)\s*\}\})");
  return re;
}
const std::regex& HoursPattern() {
  static const std::regex re(R"(\{\{\s*touched_hours\s*\}\})");
  return re;
}

std::string Trim(std::string s) {
  size_t a = s.find_first_not_of(" \t\r\n");
  size_t b = s.find_last_not_of(" \t\r\n;");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

}  // namespace

Result<Model> ParseModel(const std::string& name, const std::string& file, const std::string& text) {
  Model m;
  m.name = name;
  m.file = file;
  m.sql = Trim(text);
  if (m.sql.empty()) return Status::Invalid(file + ": model " + name + " is empty");
  std::string first = text.substr(0, text.find('\n'));
  const std::string kHeader = "-- sluice:";
  size_t at = first.find(kHeader);
  if (at != std::string::npos) {
    std::istringstream opts(first.substr(at + kHeader.size()));
    std::string kv;
    while (opts >> kv) {
      size_t eq = kv.find('=');
      std::string key = kv.substr(0, eq), value = eq == std::string::npos ? "" : kv.substr(eq + 1);
      if (key == "time_column" && !value.empty()) m.time_column = value;
      else return Status::Invalid(file + ":1: unknown model option '" + kv + "' (expected time_column=COLUMN)");
    }
  }
  for (std::sregex_iterator it(text.begin(), text.end(), RefPattern()), end; it != end; ++it) {
    std::string ref = (*it)[1];
    if (std::find(m.refs.begin(), m.refs.end(), ref) == m.refs.end()) m.refs.push_back(ref);
  }
  return m;
}

Result<std::vector<Model>> LoadModels(const std::string& dir) {
  std::vector<Model> out;
  if (dir.empty()) return out;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return Status::NotFound("models folder '" + dir + "' does not exist");
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.is_regular_file() && e.path().extension() == ".sql") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::ifstream in(f);
    if (!in) return Status::Io("cannot read model " + f.string());
    std::stringstream ss;
    ss << in.rdbuf();
    ASSIGN_OR_RETURN(Model m, ParseModel(f.stem().string(), f.string(), ss.str()));
    out.push_back(std::move(m));
  }
  return out;
}

std::string RenderModel(const Model& model, const std::function<std::string(const std::string&)>& table_of,
                        const std::set<int64_t>& hours, const SqlDialect& dialect) {
  std::string out;
  std::string rest = model.sql;
  std::smatch match;
  while (std::regex_search(rest, match, RefPattern())) {
    out += match.prefix().str() + table_of(match[1].str());
    rest = match.suffix().str();
  }
  out += rest;
  std::string list = hours.empty() ? dialect.NullTimestamp() : dialect.TimestampList(hours);
  return std::regex_replace(out, HoursPattern(), list);
}

std::string RefTable(const Config& config, const std::string& name) {
  // Unambiguous: rollups and models may not be named like a stream (ParseRollups, OrderTargets).
  if (const StreamConfig* s = config.FindStream(name)) return QuoteIdent(s->raw_table());
  return QuoteIdent(name);
}

Result<std::vector<TransformTarget>> OrderTargets(const Config& config, const std::vector<RollupConfig>& rollups,
                                                  const std::vector<Model>& models) {
  std::map<std::string, TransformTarget> targets;
  for (const auto& r : rollups) {
    TransformTarget t;
    t.name = r.name;
    t.rollup = &r;
    t.streams.insert(r.stream->name);
    targets[r.name] = std::move(t);
  }
  for (const auto& m : models) {
    if (targets.count(m.name))
      return Status::Invalid(m.file + ": model " + m.name + " has the same name as a rollup");
    if (config.FindStream(m.name))
      return Status::Invalid(m.file + ": model " + m.name + " has the same name as a stream");
    TransformTarget t;
    t.name = m.name;
    t.model = &m;
    targets[m.name] = std::move(t);
  }

  // Depth-first from each model in name order; `path` is the chain being followed, for messages.
  std::vector<TransformTarget> order;
  std::map<std::string, int> state;  // 1 visiting, 2 done
  std::vector<std::string> path;
  std::function<Status(const std::string&)> visit = [&](const std::string& name) -> Status {
    TransformTarget& t = targets.at(name);
    if (state[name] == 2) return Status::Ok();
    if (state[name] == 1) {
      auto from = std::find(path.begin(), path.end(), name);
      std::string chain;
      for (auto it = from; it != path.end(); ++it) chain += *it + " -> ";
      return Status::Invalid("model cycle: " + chain + name);
    }
    state[name] = 1;
    path.push_back(name);
    if (t.model) {
      for (const auto& ref : t.model->refs) {
        if (targets.count(ref)) {
          RETURN_IF_ERROR(visit(ref));
          if (std::find(t.deps.begin(), t.deps.end(), ref) == t.deps.end()) t.deps.push_back(ref);
          const auto& up = targets.at(ref).streams;
          t.streams.insert(up.begin(), up.end());
        } else if (config.FindStream(ref)) {
          t.streams.insert(ref);
        } else {
          std::string chain;
          for (const auto& p : path) chain += p + " -> ";
          return Status::Invalid("model " + name + " (" + t.model->file + "): ref('" + ref +
                                 "') is not a model, rollup or stream (" + chain + ref + ")");
        }
      }
    }
    path.pop_back();
    state[name] = 2;
    order.push_back(t);
    return Status::Ok();
  };
  for (const auto& r : rollups) RETURN_IF_ERROR(visit(r.name));
  for (const auto& m : models) RETURN_IF_ERROR(visit(m.name));
  return order;
}

}  // namespace sluice
