#include <cstdio>

#include "cli/cli.h"

namespace sluice::cli {

// sluice validate -c FILE: every error with file, line and field, or a summary of what the config declares.
int Validate(const Args& args) {
  auto config = LoadConfigFromArgs(args);
  if (!config) return 1;
  std::printf("%s: ok\n", config->file.c_str());
  for (const auto& s : config->streams) {
    std::printf("  stream %s: %zu fields, event time %s, %zu source(s)\n", s.name.c_str(), s.schema.fields.size(),
                s.event_time_field().name.c_str(), s.sources.size());
    for (const auto& src : s.sources) std::printf("    source %s (%s)\n", src.name.c_str(), src.kind.c_str());
  }
  return 0;
}

}  // namespace sluice::cli
