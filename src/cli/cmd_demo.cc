#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli/cli.h"
#include "serve/format.h"

namespace sluice::cli {
namespace {

namespace fs = std::filesystem;

// The real hour of GitHub events in ../shared/data, when it is beside the checkout.
std::string FindGithubSample() {
  for (fs::path base : {fs::current_path(), fs::path(SLUICE_SOURCE_DIR)}) {
    fs::path p = base / ".." / "shared" / "data" / "gharchive-2015-01-01-12.json.gz";
    if (fs::exists(p)) return fs::canonical(p).string();
  }
  return "";
}

constexpr const char* kTrackingStream = R"(  tracking:
    event_time: ts
    allowed_lateness: 6h
    schema: { ts: timestamp, ad_id: int64, website_id: int64, event: string, session: string, country: string, ua: string }
    sources:
      - { kind: file, path: events/*.ndjson }
      - { kind: http }
    batch: { max_records: 100000, max_wait: 1s }
)";

constexpr const char* kGithubStream = R"(  github_events:
    event_time: created_at
    schema:
      id: string
      type: string
      actor: { id: int64, login: string, gravatar_id: string, url: string, avatar_url: string }
      repo: { id: int64, name: string, url: string }
      payload: json
      public: bool
      created_at: timestamp
      org: { id: int64, login: string, gravatar_id: string, url: string, avatar_url: string }
    sources:
      - { kind: file, path: "%s" }
)";

void Show(Warehouse& w, const std::string& title, const std::string& sql) {
  auto r = w.Query(sql);
  if (!r.ok()) {
    std::printf("%s: %s\n", title.c_str(), r.status().message().c_str());
    return;
  }
  std::printf("\n%s\n%s", title.c_str(), FormatTable(*r).c_str());
}

}  // namespace

// sluice demo [--dir data/demo] [--events N]: a fresh demo pipeline over generated tracking events (and the
// real GitHub hour when ../shared/data is there), then a summary of what was loaded.
int Demo(const Args& args) {
  fs::path dir = fs::absolute(args.Get("dir", "data/demo"));
  std::string events = args.Get("events", "500000");
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir / "events", ec);
  std::printf("== sluice demo in %s\n", dir.c_str());
  for (int part = 0; part < 2; ++part) {
    Args gen;
    gen.flags = {{"events", std::to_string(std::stoll(events) / 2)},
                 {"out", (dir / "events" / ("tracking-" + std::to_string(part) + ".ndjson")).string()},
                 {"seed", std::to_string(42 + part)},
                 {"bad", "25"},
                 {"start", part == 0 ? "2026-11-01T00:00:00Z" : "2026-11-01T00:01:00Z"}};
    if (int rc = Gen(gen); rc != 0) return rc;
  }
  std::string github = FindGithubSample();
  std::string config = "warehouse: { kind: duckdb, path: warehouse.duckdb }\nlanding: { path: landing }\n"
                       "server: { listen: 127.0.0.1:8080 }\nstreams:\n";
  config += kTrackingStream;
  if (!github.empty()) {
    char buf[2048];
    std::snprintf(buf, sizeof buf, kGithubStream, github.c_str());
    config += buf;
  }
  std::string config_path = (dir / "sluice.yaml").string();
  std::ofstream(config_path) << config;
  std::printf("== config %s\n", config_path.c_str());

  Args ingest;
  ingest.flags = {{"config", config_path}, {"once", "true"}};
  std::printf("== sluice ingest -c %s --once\n", config_path.c_str());
  if (int rc = Ingest(ingest, true); rc != 0) return rc;

  auto c = LoadConfig(config_path);
  auto w = OpenWarehouse(*c);
  if (!w.ok()) {
    spdlog::error("{}", w.status().message());
    return 1;
  }
  Warehouse& wh = **w;
  Show(wh, "Loaded, per stream and source",
       "SELECT stream, source, count(*) AS batches, sum(rows) AS rows, sum(dead_rows) AS dead_letters, "
       "sum(late_rows) AS late FROM _sluice_batches GROUP BY ALL ORDER BY ALL");
  Show(wh, "Dead letters, by reason (nothing is lost: each keeps its raw bytes and position)",
       "SELECT regexp_replace(error, '''.*', '') AS reason, count(*) AS n, min(\"partition\" || ':' || \"offset\") "
       "AS first_position FROM _sluice_dead_letters GROUP BY ALL ORDER BY n DESC");
  Show(wh, "Top 5 ads by events (Zipf skew: a few ads take most traffic)",
       "SELECT ad_id, count(*) AS events, count(*) FILTER (event = 'complete') AS completes, "
       "count(*) FILTER (event = 'click') AS clicks FROM raw_tracking GROUP BY ad_id ORDER BY events DESC LIMIT 5");
  if (!github.empty())
    Show(wh, "GitHub events by type (one real hour, 2015-01-01 12:00 UTC)",
         "SELECT type, count(*) AS events FROM raw_github_events GROUP BY type ORDER BY events DESC, type");
  std::printf("\nTry: ./build/sluice query -c %s \"SELECT event, count(*) FROM raw_tracking GROUP BY ALL\"\n",
              config_path.c_str());
  std::printf("     ./build/sluice run -c %s   # then POST NDJSON to http://127.0.0.1:8080/ingest/tracking\n",
              config_path.c_str());
  return 0;
}

}  // namespace sluice::cli
