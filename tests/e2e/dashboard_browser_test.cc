// The dashboard page in a real browser: the demo's warehouse served by `sluice run` with a bearer token, and
// tests/web/dashboard.e2e.mjs driving Debian's chromium through playwright-core (both installed by
// scripts/setup). The script checks the token prompt, the list, every chart's drawn points against
// `sluice query` (with chart defaults, a custom range and the last 7 days), Download CSV and the table view,
// a broken chart's error, auto-refresh after an ingest, a dashboard file edited while the page is open (and a
// broken edit's banner), and that the console stays clean; and the Community dashboard's source-health
// indicator showing a partial collector run (recorded here with `sluice collect` against a loopback API where
// one repository of two answers a proxy's 404 page) as partial. Screenshots and the downloaded CSV are kept
// under the build tree, in artifacts/dashboard_browser/.
#include <fstream>
#include <regex>
#include <sstream>

#include "collect/sample_responses.h"
#include "core/http_test_server.h"

#include "harness.h"

namespace sluice::e2e {
namespace {

class DashboardBrowserTest : public ScratchDir {};

TEST_F(DashboardBrowserTest, ChartsShowWhatSluiceQueryReturns) {
  const std::string web = std::string(SLUICE_SOURCE_DIR) + "/tests/web";
  ASSERT_TRUE(std::filesystem::exists(web + "/node_modules/playwright-core"))
      << "playwright-core is missing: run scripts/setup";
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/chromium")) << "chromium is missing: run scripts/setup";

  CommandResult demo = RunSluice({"demo", "--dir", Path("demo"), "--events", "20000", "--no-serve"});
  ASSERT_EQ(demo.exit_code, 0) << demo.output;
  EXPECT_NE(demo.output.find("dashboards at http://127.0.0.1:8080/"), std::string::npos) << demo.output;
  // A third dashboard next to the demo's: a chart whose SQL fails, and a number that auto-refresh must update.
  Write("demo/dashboards/checks.yaml", R"(title: Checks
refresh: 1s
charts:
  - { title: Broken on purpose, kind: line, sql: "SELECT day, n FROM no_such_table", x: day, y: n }
  - { title: Events loaded, kind: number, sql: "SELECT count(*) AS events FROM raw_tracking" }
)");
  // A partial run in the demo's warehouse: acme/nebula loads, acme/gone fails.
  TestHttpServer api;
  api.server().Get("/repos/acme/nebula", [&api](const httplib::Request&, httplib::Response& res) {
    res.set_content(SampleResponse("github/repos_acme_nebula.json", api.base_url()), "application/json");
  });
  api.server().Get("/repos/acme/nebula/releases", [&api](const httplib::Request&, httplib::Response& res) {
    res.set_content(SampleResponse("github/releases_acme_nebula.json", api.base_url()), "application/json");
  });
  api.server().Get("/repos/acme/gone", [](const httplib::Request&, httplib::Response& res) {
    res.status = 404;
    res.set_content("<html><body><h1>Proxy error</h1></body></html>", "text/html");
  });
  ASSERT_TRUE(api.Start());
  const std::string partial_config =
      Write("demo/partial.yaml", "warehouse: { kind: duckdb, path: warehouse.duckdb }\nlanding: { path: landing }\n"
                                 "streams: {}\ncollectors:\n  github_partial: { kind: github, repos: [acme/nebula, "
                                 "acme/gone], token_env: SLUICE_E2E_UNSET_TOKEN, base_url: " + api.base_url() + " }\n");
  CommandResult partial = RunSluice({"collect", "-c", partial_config, "github_partial"});
  EXPECT_EQ(partial.exit_code, 1) << partial.output;  // partial exits 1, so a cron job notices
  EXPECT_NE(partial.output.find("partial"), std::string::npos) << partial.output;
  api.Stop();

  const std::string config = Path("demo/sluice.yaml");
  std::stringstream text;
  text << std::ifstream(config).rdbuf();
  int port = FreePort();
  std::string yaml = std::regex_replace(
      text.str(), std::regex("server: \\{[^}]*\\}"),
      "server: { listen: 127.0.0.1:" + std::to_string(port) + ", token_env: SLUICE_E2E_DASHBOARD_TOKEN }");
  std::ofstream(config) << yaml;
  ::setenv("SLUICE_E2E_DASHBOARD_TOKEN", "e2e-dashboard-token", 1);
  CommandResult valid = RunSluice({"validate", "-c", config});
  ASSERT_EQ(valid.exit_code, 0) << valid.output;
  EXPECT_NE(valid.output.find("dashboard checks: 2 chart(s)"), std::string::npos) << valid.output;

  pid_t pid = StartSluice({"run", "-c", config, "--quiet"}, Path("run.log"));
  ASSERT_TRUE(WaitHealthy(port, 30)) << "sluice run did not come up";
  const std::string shots =
      (std::filesystem::path(SLUICE_BIN).parent_path() / "artifacts" / "dashboard_browser").string();
  std::filesystem::remove_all(shots);
  std::filesystem::create_directories(shots);
  pid_t node = StartProgram("/usr/bin/env",
                            {"node", web + "/dashboard.e2e.mjs", "http://127.0.0.1:" + std::to_string(port),
                             "e2e-dashboard-token", SLUICE_BIN, config, shots, "github_partial"},
                            Path("browser.log"));
  int rc = WaitFor(node);
  std::stringstream log;
  log << std::ifstream(Path("browser.log")).rdbuf();
  EXPECT_EQ(rc, 0) << log.str();
  EXPECT_NE(log.str().find("all checks passed"), std::string::npos) << log.str();
  for (const char* shot : {"tracking-custom-range.png", "tracking-table-view.png", "checks-reload-error.png",
                           "community-partial-source.png"})
    EXPECT_TRUE(std::filesystem::exists(shots + "/" + shot)) << shot;
  ::kill(pid, SIGTERM);
  EXPECT_EQ(WaitFor(pid), 0);
  // The token never reaches the logs.
  std::stringstream run_log;
  run_log << std::ifstream(Path("run.log")).rdbuf();
  EXPECT_EQ(run_log.str().find("e2e-dashboard-token"), std::string::npos);
}

}  // namespace
}  // namespace sluice::e2e
