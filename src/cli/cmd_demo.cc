#include <httplib.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "cli/cli.h"
#include "collect/sample_responses.h"
#include "core/time.h"
#include "serve/embedded_file.h"
#include "serve/format.h"

namespace sluice {
// examples/dashboards/*.yaml, compiled in (src/cli/CMakeLists.txt): the demo writes them beside its config.
const std::vector<EmbeddedFile>& DemoDashboards();
}  // namespace sluice

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
    allowed_lateness: 1h
    schema: { ts: timestamp, ad_id: int64, website_id: int64, event: string, session: string, country: string, ua: string }
    sources:
      - { kind: file, path: events/*.ndjson }
      - { kind: http }
    batch: { max_records: 10000, max_wait: 1s }
)";

// Hourly rollups of the tracking events: counts per ad and site, event types pivoted into columns; and per
// country, for the Tracking dashboard's country table.
constexpr const char* kRollups = R"(rollups:
  tracking_hourly:
    stream: tracking
    grain: hour
    dimensions: [ad_id, website_id]
    pivot: { column: event, values: [start, firstQuartile, midpoint, thirdQuartile, complete, click] }
    measures: { events: count, sessions: approx_distinct(session) }
  tracking_country_hourly:
    stream: tracking
    grain: hour
    dimensions: [country]
    pivot: { column: event, values: [click] }
    measures: { events: count }
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

// The demo collects a week of daily snapshots. The sample files hold the last day's figures; a day
// `days_back` earlier had fewer stars, forks, pulls and downloads (running totals grow), each counter at its
// own pace so the daily deltas differ.
void RewindCounters(nlohmann::json& j, int days_back) {
  static const std::set<std::string> kCounters = {"stargazers_count", "watchers_count", "forks_count",
                                                  "pull_count",       "star_count",     "download_count"};
  if (j.is_array()) {
    for (auto& e : j) RewindCounters(e, days_back);
  } else if (j.is_object()) {
    for (auto& [key, v] : j.items()) {
      if (v.is_number_integer() && kCounters.count(key)) {
        int64_t total = v.get<int64_t>();
        int64_t per_day =
            std::max<int64_t>(1, total / (150 + static_cast<int64_t>(std::hash<std::string>{}(key) % 150)));
        // Weekends are quieter: a day's growth varies with its distance from the last day.
        int64_t grown = 0;
        for (int d = 0; d < days_back; ++d) grown += per_day * (d % 7 == 2 || d % 7 == 3 ? 1 : 3) / 2;
        v = std::max<int64_t>(0, total - grown);
      } else {
        RewindCounters(v, days_back);
      }
    }
  }
}

// GitHub traffic as the API answers it on `day` (its 14 days up to `day`): counts with a weekly rhythm.
std::string SampleTraffic(const std::string& kind, int64_t day) {
  nlohmann::json days = nlohmann::json::array();
  int64_t count = 0, uniques = 0;
  for (int64_t d = day - 13; d <= day; ++d) {
    int weekday = static_cast<int>((d + 4) % 7);  // 1970-01-01 was a Thursday; 0 is Sunday
    int64_t c = (kind == "views" ? 220 : 30) * (weekday == 0 || weekday == 6 ? 1 : 2) + (d * 37) % 41;
    int64_t u = c / 3 + (d * 13) % 7;
    days.push_back({{"timestamp", FormatIsoMicros(d * 86'400'000'000LL)}, {"count", c}, {"uniques", u}});
    count += c;
    uniques += u;
  }
  return nlohmann::json{{"count", count}, {"uniques", uniques}, {kind, days}}.dump();
}

// The community collectors against the sample responses, served on loopback: no token, no network. They run
// once per day of the week ending on the sample's last day, so the dashboards have daily figures to chart.
void DemoCollectors(const Config& config, Warehouse& wh) {
  httplib::Server server;
  const int port = server.bind_to_any_port("127.0.0.1");
  if (port <= 0) {
    std::printf("\n(community collectors skipped: no loopback port)\n");
    return;
  }
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  constexpr int64_t kLastDay = 19968;  // 2024-09-02, the day the sample responses were "fetched"
  constexpr int kDays = 7;
  std::atomic<int> days_back{0};
  auto sample = [&days_back](const std::string& file, const std::string& base_url) {
    nlohmann::json j = nlohmann::json::parse(SampleResponse(file, base_url), nullptr, false);
    RewindCounters(j, days_back);
    return j.dump();
  };
  auto serve = [&](const std::string& path, const std::string& file) {
    server.Get(path, [base, file, &sample](const httplib::Request&, httplib::Response& res) {
      res.set_content(sample(file, base), "application/json");
    });
  };
  serve("/orgs/acme/repos", "github/orgs_acme_repos.json");
  serve("/repos/acme/nebula", "github/repos_acme_nebula.json");
  serve("/repos/acme/nebula-console", "github/repos_acme_nebula-console.json");
  for (std::string kind : {"clones", "views"})
    server.Get("/repos/acme/nebula/traffic/" + kind,
               [kind, &days_back](const httplib::Request&, httplib::Response& res) {
                 res.set_content(SampleTraffic(kind, kLastDay - days_back), "application/json");
               });
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
  server.Get("/v2/namespaces/vesoft/repositories",
             [base, &sample](const httplib::Request& req, httplib::Response& res) {
               std::string page = req.has_param("page") ? req.get_param_value("page") : "1";
               res.set_content(sample("dockerhub/repositories_page" + page + ".json", base), "application/json");
             });
  std::thread thread([&] { server.listen_after_bind(); });
  for (int i = 0; i < 500 && !server.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  // A placeholder token: the sample server accepts anything, and traffic needs one to be fetched at all.
  ::setenv("SLUICE_DEMO_SAMPLE_TOKEN", "sample-not-a-real-token", 1);
  auto collectors = ReadCollectors(YAML::Load("github: { kind: github, org: acme, token_env: SLUICE_DEMO_SAMPLE_TOKEN, base_url: " +
                                              base + " }\ndockerhub: { kind: dockerhub, namespace: vesoft, page_size: 2, base_url: " + base + " }\n"),
                                   "demo");
  std::printf(
      "\n== community collectors on SAMPLE API responses (src/collect/testdata, invented figures) at %s,\n"
      "   one run per day for the %d days up to %s\n",
      base.c_str(), kDays, FormatIsoDate(kLastDay).c_str());
  if (collectors.ok()) {
    for (days_back = kDays - 1; days_back >= 0; --days_back) {
      FakeClock day(TimePoint(std::chrono::hours(24 * (kLastDay - days_back) + 3)));  // the 03:00 UTC run
      for (const CollectorConfig& c : *collectors)
        (void)RunCollectorNow(c, OpenObjectStore(config), wh, &day, /*verbose=*/days_back == 0);
    }
  } else {
    std::printf("%s\n", collectors.status().message().c_str());
  }
  server.stop();
  thread.join();
  Show(wh, "Stars per repository (SAMPLE DATA)",
       "SELECT repo, stars, forks, open_issues FROM gh_repo_snapshots WHERE day = (SELECT max(day) FROM "
       "gh_repo_snapshots) ORDER BY stars DESC");
  Show(wh, "Release downloads (SAMPLE DATA)",
       "SELECT repo, tag, asset, download_count, downloads AS last_day FROM gh_release_downloads_daily WHERE day = "
       "(SELECT max(day) FROM gh_release_downloads_daily) ORDER BY download_count DESC LIMIT 5");
  Show(wh, "Docker Hub pulls (SAMPLE DATA)",
       "SELECT repo, pull_count, star_count FROM dockerhub_repo_snapshots WHERE day = (SELECT max(day) FROM "
       "dockerhub_repo_snapshots) ORDER BY pull_count DESC");
}

// The summary of the demo's warehouse: loads, dead letters, the rollup, top ads, GitHub events, and the
// community collectors' tables. Closes the warehouse before returning so `sluice run` can open it.
int Summary(const Config& config, bool with_github) {
  auto w = OpenWarehouse(config);
  if (!w.ok()) {
    spdlog::error("{}", w.status().message());
    return 1;
  }
  Warehouse& wh = **w;
  Show(wh,
       "Loaded, per stream and source (late: events more than allowed_lateness, 1h, behind the newest; the "
       "generator delays ~2% of events by up to 3 h)",
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
  if (with_github)
    Show(wh, "GitHub events by type (one real hour, 2015-01-01 12:00 UTC)",
         "SELECT type, count(*) AS events FROM raw_github_events GROUP BY type ORDER BY events DESC, type");
  DemoCollectors(config, wh);
  return 0;
}

}  // namespace

// sluice demo [--dir data/demo] [--events N] [--listen HOST:PORT] [--no-serve]: a fresh demo pipeline over
// generated tracking events (and the real GitHub hour when ../shared/data is there) and a week of sample
// community figures, a summary of what was loaded, then `sluice run` on it serving the dashboards until
// Ctrl-C (unless --no-serve).
int Demo(const Args& args) {
  fs::path dir = fs::absolute(args.Get("dir", "data/demo"));
  std::string events = args.Get("events", "500000");
  const std::string listen = args.Get("listen", "127.0.0.1:8080");
  // Event time spread over about three days, so the hourly charts have a few days of hours: the two files
  // follow each other in time (36 hours each), as a day's files would, so only the generator's ~2% of truly
  // late events count as late, not the whole second file.
  const int64_t per_part = std::stoll(events) / 2;
  constexpr int64_t kPartSeconds = 36 * 3600;
  const int64_t rate = std::max<int64_t>(1, (per_part + kPartSeconds - 1) / kPartSeconds);  // at most 36 hours
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir / "events", ec);
  std::printf("== sluice demo in %s\n", dir.c_str());
  for (int part = 0; part < 2; ++part) {
    Args gen;
    gen.flags = {{"events", std::to_string(per_part)},
                 {"rate", std::to_string(rate)},
                 {"out", (dir / "events" / ("tracking-" + std::to_string(part) + ".ndjson")).string()},
                 {"seed", std::to_string(42 + part)},
                 {"bad", "25"},
                 {"start", part == 0 ? "2026-11-01T00:00:00Z" : "2026-11-02T12:00:00Z"}};
    if (int rc = Gen(gen); rc != 0) return rc;
  }
  std::string github = FindGithubSample();
  fs::create_directories(dir / "dashboards", ec);
  for (const EmbeddedFile& f : DemoDashboards()) std::ofstream(dir / "dashboards" / std::string(f.name)) << f.data;
  std::string config =
      "warehouse: { kind: duckdb, path: warehouse.duckdb }\nlanding: { path: landing }\n"
      "server: { listen: " +
      listen + " }\ndashboards: dashboards\nstreams:\n";
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
  if (!c.ok()) {
    spdlog::error("{}", c.status().message());
    return 1;
  }
  if (int rc = Summary(*c, !github.empty()); rc != 0) return rc;
  std::printf("\nTry: ./build/sluice query -c %s \"SELECT event, count(*) FROM raw_tracking GROUP BY ALL\"\n",
              config_path.c_str());
  if (args.Has("no-serve")) {
    std::printf("     ./build/sluice run -c %s   # dashboards at http://%s/, POST NDJSON to /ingest/tracking\n",
                config_path.c_str(), listen.c_str());
    return 0;
  }
  std::printf("\n== Dashboards: http://%s/  (community and tracking; Ctrl-C stops)\n", listen.c_str());
  std::printf("   this is `sluice run -c %s`: POST NDJSON to http://%s/ingest/tracking and watch the charts move\n",
              config_path.c_str(), listen.c_str());
  std::fflush(stdout);
  Args run;
  run.flags = {{"config", config_path}, {"quiet", "true"}};
  int rc = Ingest(run, false);
  if (rc != 0)
    std::fprintf(stderr, "the dashboards could not be served on %s; try: sluice demo --listen 127.0.0.1:8090\n",
                 listen.c_str());
  return rc;
}

}  // namespace sluice::cli
