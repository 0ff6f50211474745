#include <cstdio>

#include "cli/cli.h"
#include "serve/format.h"

namespace sluice::cli {

// sluice query -c FILE "SQL" [--format table|csv|json]
int Query(const Args& args) {
  if (args.positional.empty()) {
    std::fprintf(stderr, "usage: sluice query -c FILE \"SQL\" [--format table|csv|json]\n");
    return 2;
  }
  auto config = LoadConfigFromArgs(args);
  if (!config) return 1;
  auto access = OpenForCommand(*config);
  if (!access.ok()) {
    std::fprintf(stderr, "%s\n", access.status().message().c_str());
    return 1;
  }
  auto r = RunQuery(*access, *config, args.positional[0]);
  if (!r.ok()) {
    std::fprintf(stderr, "%s\n", r.status().message().c_str());
    return 1;
  }
  std::fputs(FormatResult(*r, args.Get("format", "table"), TerminalWidth()).c_str(), stdout);
  if (r->truncated)
    std::fprintf(stderr, "note: the result was cut at %zu rows (server.max_rows)\n", r->rows.size());
  return 0;
}

}  // namespace sluice::cli
