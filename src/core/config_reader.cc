#include "core/config_reader.h"

#include <charconv>

#include "core/time.h"

namespace sluice {

std::string JoinPath(std::string_view parent, std::string_view child) {
  if (parent.empty()) return std::string(child);
  return std::string(parent) + "." + std::string(child);
}

void ConfigReader::Error(const YAML::Node& at, std::string_view path, std::string_view message) {
  std::string where = file_;
  if (at.IsDefined() && at.Mark().line >= 0)
    where += ":" + std::to_string(at.Mark().line + 1) + ":" + std::to_string(at.Mark().column + 1);
  errors_.push_back(where + ": " + std::string(path) + ": " + std::string(message));
}

void ConfigReader::CheckKeys(const YAML::Node& map, std::string_view path,
                             std::initializer_list<std::string_view> allowed) {
  if (!map.IsDefined() || !map.IsMap()) return;
  for (const auto& kv : map) {
    std::string key = kv.first.Scalar();
    bool known = false;
    for (auto a : allowed) known |= (a == key);
    if (!known) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      Error(kv.first, JoinPath(path, key), "unknown field (expected one of: " + list + ")");
    }
  }
}

std::optional<std::string> ConfigReader::String(const YAML::Node& map, std::string_view key,
                                                std::string_view path, bool required) {
  YAML::Node n = map.IsDefined() && map.IsMap() ? map[std::string(key)] : YAML::Node();
  if (!n.IsDefined() || n.IsNull()) {
    if (required) Error(map, JoinPath(path, key), "required field is missing");
    return std::nullopt;
  }
  if (!n.IsScalar()) {
    Error(n, JoinPath(path, key), "expected a string");
    return std::nullopt;
  }
  return n.Scalar();
}

std::optional<int64_t> ConfigReader::Int(const YAML::Node& map, std::string_view key, std::string_view path,
                                         bool required) {
  auto s = String(map, key, path, required);
  if (!s) return std::nullopt;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
  if (ec != std::errc() || p != s->data() + s->size()) {
    // Allow digit separators users write in YAML ("1_000_000").
    std::string digits;
    for (char c : *s)
      if (c != '_') digits += c;
    auto [p2, ec2] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (digits.empty() || ec2 != std::errc() || p2 != digits.data() + digits.size()) {
      Error(map[std::string(key)], JoinPath(path, key), "not an integer: '" + *s + "'");
      return std::nullopt;
    }
  }
  return v;
}

std::optional<bool> ConfigReader::Bool(const YAML::Node& map, std::string_view key, std::string_view path) {
  auto s = String(map, key, path);
  if (!s) return std::nullopt;
  if (*s == "true" || *s == "yes" || *s == "on") return true;
  if (*s == "false" || *s == "no" || *s == "off") return false;
  Error(map[std::string(key)], JoinPath(path, key), "not a boolean: '" + *s + "'");
  return std::nullopt;
}

std::optional<int64_t> ConfigReader::Duration(const YAML::Node& map, std::string_view key, std::string_view path,
                                              bool required) {
  auto s = String(map, key, path, required);
  if (!s) return std::nullopt;
  auto d = ParseDurationMicros(*s);
  if (!d) {
    Error(map[std::string(key)], JoinPath(path, key),
          "not a duration: '" + *s + "' (examples: 500ms, 1s, 5m, 6h, 3d)");
    return std::nullopt;
  }
  return d;
}

std::optional<int64_t> ConfigReader::Size(const YAML::Node& map, std::string_view key, std::string_view path) {
  auto s = String(map, key, path);
  if (!s) return std::nullopt;
  int64_t n = 0;
  auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), n);
  std::string_view unit(p, s->data() + s->size() - p);
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  int64_t scale = -1;
  if (unit.empty() || unit == "B") scale = 1;
  else if (unit == "KB") scale = 1000;
  else if (unit == "KiB" || unit == "K") scale = 1024;
  else if (unit == "MB") scale = 1000 * 1000;
  else if (unit == "MiB" || unit == "M") scale = 1024 * 1024;
  else if (unit == "GB") scale = 1000LL * 1000 * 1000;
  else if (unit == "GiB" || unit == "G") scale = 1024LL * 1024 * 1024;
  if (ec != std::errc() || scale < 0 || n < 0) {
    Error(map[std::string(key)], JoinPath(path, key), "not a size: '" + *s + "' (examples: 4096, 512KiB, 64MiB)");
    return std::nullopt;
  }
  return n * scale;
}

std::vector<std::string> ConfigReader::StringList(const YAML::Node& map, std::string_view key,
                                                  std::string_view path) {
  std::vector<std::string> out;
  YAML::Node n = map.IsDefined() && map.IsMap() ? map[std::string(key)] : YAML::Node();
  if (!n.IsDefined() || n.IsNull()) return out;
  if (n.IsScalar()) return {n.Scalar()};
  if (!n.IsSequence()) {
    Error(n, JoinPath(path, key), "expected a list of strings");
    return out;
  }
  for (const auto& e : n) {
    if (!e.IsScalar()) {
      Error(e, JoinPath(path, key), "expected a string");
      continue;
    }
    out.push_back(e.Scalar());
  }
  return out;
}

Status ConfigReader::ToStatus() const {
  if (errors_.empty()) return Status::Ok();
  std::string msg;
  for (const auto& e : errors_) msg += (msg.empty() ? "" : "\n") + e;
  return Status::Invalid(msg);
}

Result<YAML::Node> LoadYaml(const std::string& text, const std::string& file) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return Status::Invalid(file + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                           ": " + e.msg);
  }
}

}  // namespace sluice
