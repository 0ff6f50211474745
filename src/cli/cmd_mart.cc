// sluice mart -c FILE NAME [--full]: refresh one PostgreSQL mart now (marts/mart_refresher.h).
#include <spdlog/spdlog.h>

#include <cstdio>

#include "cli/cli.h"
#include "marts/mart_refresher.h"
#include "transform/transformer.h"

namespace sluice::cli {

int Mart(const Args& args) {
  if (args.positional.size() != 1) {
    std::fprintf(stderr, "usage: sluice mart -c FILE NAME [--full]\n");
    return 2;
  }
  auto config = LoadConfigFromArgs(args);
  if (!config) return 1;
  auto transformer = Transformer::Create(*config);
  if (!transformer.ok()) {
    std::fprintf(stderr, "%s\n", transformer.status().message().c_str());
    return 1;
  }
  auto refresher = MartRefresher::Create(*config, **transformer);
  if (!refresher.ok()) {
    std::fprintf(stderr, "%s\n", refresher.status().message().c_str());
    return 1;
  }
  const MartConfig* mart = (*refresher)->Find(args.positional[0]);
  if (!mart) {
    std::fprintf(stderr, "no mart named '%s' in %s\n", args.positional[0].c_str(), config->file.c_str());
    return 1;
  }
  auto access = OpenForCommand(*config);
  if (!access.ok()) {
    spdlog::error("{}", access.status().message());
    return 1;
  }
  if (!access->local) {
    // The running process refreshes marts after each transform; reading the warehouse here needs the file.
    std::fprintf(stderr, "the warehouse is held by a running sluice (%s), which refreshes marts after each "
                 "transform; stop it to refresh a mart by hand\n", access->remote_url.c_str());
    return 1;
  }
  // A fresh warehouse has no cursor table yet: made here, so "not transformed yet" is said plainly.
  if (Status st = access->local->Prepare(*config); !st.ok() || !(st = (*transformer)->Prepare(*access->local)).ok()) {
    spdlog::error("{}", st.message());
    return 1;
  }
  MartRefreshOptions options;
  options.full = args.Has("full");
  auto report = (*refresher)->Refresh(*access->local, *mart, options);
  if (!report.ok()) {
    spdlog::error("{}", report.status().message());
    return 1;
  }
  std::printf("%s\n", report->Line().c_str());
  return 0;
}

}  // namespace sluice::cli
