#include <httplib.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "collect/sample_responses.h"
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

// An hourly rollup of the tracking events: counts per ad and site, event types pivoted into columns.
constexpr const char* kRollups = R"(rollups:
  tracking_hourly:
    stream: tracking
    grain: hour
    dimensions: [ad_id, website_id]
    pivot: { column: event, values: [start, firstQuartile, midpoint, thirdQuartile, complete, click] }
    measures: { events: count, sessions: approx_distinct(session) }
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

// The community collectors against the sample responses, served on loopback: no token, no network.
void DemoCollectors(const Config& config, Warehouse& wh) {
  httplib::Server server;
  const int port = server.bind_to_any_port("127.0.0.1");
  if (port <= 0) {
    std::printf("\n(community collectors skipped: no loopback port)\n");
    return;
  }
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  auto serve = [&](const std::string& path, const std::string& file) {
    server.Get(path, [base, file](const httplib::Request&, httplib::Response& res) {
      res.set_content(SampleResponse(file, base), "application/json");
    });
  };
  serve("/orgs/acme/repos", "github/orgs_acme_repos.json");
  serve("/repos/acme/nebula", "github/repos_acme_nebula.json");
  serve("/repos/acme/nebula-console", "github/repos_acme_nebula-console.json");
  for (const char* t : {"clones", "views"}) serve(std::string("/repos/acme/nebula/traffic/") + t, std::string("github/traffic_") + t + ".json");
  serve("/repos/acme/nebula/traffic/popular/referrers", "github/traffic_referrers.json");
  serve("/repos/acme/nebula/traffic/popular/paths", "github/traffic_paths.json");
  serve("/repos/acme/nebula/releases", "github/releases_acme_nebula.json");
  serve("/repos/acme/nebula-console/releases", "github/releases_empty.json");
  server.Get("/repos/acme/nebula-console/traffic/.*", [](const httplib::Request&, httplib::Response& res) {
    res.status = 403;  // as GitHub answers a token without push access
    res.set_content(R"({"message":"Must have push access to repository"})", "application/json");
  });
  server.Post("/graphql", [base](const httplib::Request&, httplib::Response& res) {
    res.set_content(SampleResponse("github/graphql_totals.json", base), "application/json");
  });
  server.Get("/v2/namespaces/vesoft/repositories", [base](const httplib::Request& req, httplib::Response& res) {
    std::string page = req.has_param("page") ? req.get_param_value("page") : "1";
    res.set_content(SampleResponse("dockerhub/repositories_page" + page + ".json", base), "application/json");
  });
  std::thread thread([&] { server.listen_after_bind(); });
  for (int i = 0; i < 500 && !server.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  // A placeholder token: the sample server accepts anything, and traffic needs one to be fetched at all.
  ::setenv("SLUICE_DEMO_SAMPLE_TOKEN", "sample-not-a-real-token", 1);
  auto collectors = ReadCollectors(YAML::Load("github: { kind: github, org: acme, token_env: SLUICE_DEMO_SAMPLE_TOKEN, base_url: " +
                                              base + " }\ndockerhub: { kind: dockerhub, namespace: vesoft, page_size: 2, base_url: " + base + " }\n"),
                                   "demo");
  std::printf("\n== community collectors on SAMPLE API responses (src/collect/testdata, invented figures) at %s\n", base.c_str());
  if (collectors.ok()) {
    for (const CollectorConfig& c : *collectors) (void)RunCollectorNow(c, config.landing_path, wh);
  } else {
    std::printf("%s\n", collectors.status().message().c_str());
  }
  server.stop();
  thread.join();
  Show(wh, "Stars per repository (SAMPLE DATA)",
       "SELECT repo, stars, forks, open_issues FROM gh_repo_snapshots ORDER BY stars DESC");
  Show(wh, "Release downloads (SAMPLE DATA)",
       "SELECT repo, tag, asset, download_count FROM gh_release_downloads_daily ORDER BY download_count DESC LIMIT 5");
  Show(wh, "Docker Hub pulls (SAMPLE DATA)",
       "SELECT repo, pull_count, star_count FROM dockerhub_repo_snapshots ORDER BY pull_count DESC");
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
  config += kRollups;
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
  Show(wh, "Rollup tracking_hourly (raw rows per rollup row: the compression)",
       "SELECT (SELECT count(*) FROM raw_tracking) AS raw_rows, count(*) AS rollup_rows, "
       "round((SELECT count(*) FROM raw_tracking) / count(*), 1) AS ratio, sum(start) AS starts, "
       "sum(complete) AS completes, sum(click) AS clicks FROM tracking_hourly");
  Show(wh, "Top 5 ads by events (Zipf skew: a few ads take most traffic)",
       "SELECT ad_id, count(*) AS events, count(*) FILTER (event = 'complete') AS completes, "
       "count(*) FILTER (event = 'click') AS clicks FROM raw_tracking GROUP BY ad_id ORDER BY events DESC LIMIT 5");
  if (!github.empty())
    Show(wh, "GitHub events by type (one real hour, 2015-01-01 12:00 UTC)",
         "SELECT type, count(*) AS events FROM raw_github_events GROUP BY type ORDER BY events DESC, type");
  DemoCollectors(*c, wh);
  std::printf("\nTry: ./build/sluice query -c %s \"SELECT event, count(*) FROM raw_tracking GROUP BY ALL\"\n",
              config_path.c_str());
  std::printf("     ./build/sluice run -c %s   # then POST NDJSON to http://127.0.0.1:8080/ingest/tracking\n",
              config_path.c_str());
  return 0;
}

}  // namespace sluice::cli
