// ConfigReader: typed access to a YAML tree that collects every error with file, line and field, so
// `sluice validate` reports all mistakes at once ("sluice.yaml:12:5: streams.tracking.batch.max_wait:
// not a duration: '1x'"). Each config section (streams, rollups, collectors) reads itself through one.
// Not thread-safe; one per load.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace sluice {

class ConfigReader {
 public:
  explicit ConfigReader(std::string file) : file_(std::move(file)) {}

  // Records an error at `at`'s position for field path `path`.
  void Error(const YAML::Node& at, std::string_view path, std::string_view message);

  // Reports keys of `map` not in `allowed` (typos must not pass silently).
  void CheckKeys(const YAML::Node& map, std::string_view path, std::initializer_list<std::string_view> allowed);

  // Each getter reads map[key]; when absent returns nullopt (and records an error if `required`); when
  // present but of the wrong kind records an error and returns nullopt.
  std::optional<std::string> String(const YAML::Node& map, std::string_view key, std::string_view path,
                                    bool required = false);
  std::optional<int64_t> Int(const YAML::Node& map, std::string_view key, std::string_view path,
                             bool required = false);
  std::optional<bool> Bool(const YAML::Node& map, std::string_view key, std::string_view path);
  // A duration ("1s", "500ms", "6h") in microseconds.
  std::optional<int64_t> Duration(const YAML::Node& map, std::string_view key, std::string_view path,
                                  bool required = false);
  // A size ("64MiB", "1MB", "4096") in bytes.
  std::optional<int64_t> Size(const YAML::Node& map, std::string_view key, std::string_view path);
  std::vector<std::string> StringList(const YAML::Node& map, std::string_view key, std::string_view path);

  bool ok() const { return errors_.empty(); }
  const std::vector<std::string>& errors() const { return errors_; }
  const std::string& file() const { return file_; }
  // Ok, or Invalid with one error per line.
  Status ToStatus() const;

 private:
  std::string file_;
  std::vector<std::string> errors_;
};

// Parses YAML text; a syntax error becomes Invalid("file:line:column: message").
Result<YAML::Node> LoadYaml(const std::string& text, const std::string& file);

// "a.b" + "c" -> "a.b.c".
std::string JoinPath(std::string_view parent, std::string_view child);

}  // namespace sluice
