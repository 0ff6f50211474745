// The http_json collector against a loopback server: templated URL, env-var headers, JSON-path rows and
// fields, both pagination styles, then loading and re-loading into DuckDB through the collector runner.
#include "collect/http_json_collector.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>

#include "collect/collector_runner.h"
#include "core/http_test_server.h"
#include "core/time.h"
#include "warehouse/duckdb/duckdb_warehouse.h"

namespace sluice {
namespace {

using nlohmann::json;

TimePoint At(const char* iso) { return TimePoint(std::chrono::microseconds(ParseIsoMicros(iso).value())); }

CollectorConfig ReadOne(const std::string& yaml) {
  auto c = ReadCollectors(YAML::Load(yaml)["collectors"], "test.yaml");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? (*c)[0] : CollectorConfig{};
}

TEST(JsonPathTest, SelectsMembersIndexesAndWildcards) {
  json doc = json::parse(R"({"data":[{"a":{"b":1}},{"a":{"b":2}}],"x":{"y z":3}})");
  EXPECT_EQ(JsonPathSelect(doc, "$.data[*].a.b").value(), (std::vector<json>{1, 2}));
  EXPECT_EQ(JsonPathSelect(doc, "$.data[1].a").value(), (std::vector<json>{{{"b", 2}}}));
  EXPECT_EQ(JsonPathSelect(doc, "$.x['y z']").value(), (std::vector<json>{3}));
  EXPECT_TRUE(JsonPathSelect(doc, "$.missing.deep").value().empty());
  EXPECT_EQ(JsonPathSelect(doc, "$").value().size(), 1u);
  EXPECT_FALSE(JsonPathError("$.a[").empty());
  EXPECT_FALSE(JsonPathError("a.b").empty());
}

TEST(JsonPathTest, ConvertsTypes) {
  EXPECT_EQ(ConvertJsonValue("42", "int64"), 42);
  EXPECT_TRUE(ConvertJsonValue("4x", "int64").is_null());
  EXPECT_EQ(ConvertJsonValue(1.5, "float64"), 1.5);
  EXPECT_EQ(ConvertJsonValue("true", "bool"), true);
  EXPECT_EQ(ConvertJsonValue("2024-09-01T12:00:00Z", "timestamp"), "2024-09-01 12:00:00");
  EXPECT_EQ(ConvertJsonValue(1725192000, "timestamp"), "2024-09-01 12:00:00");
  EXPECT_EQ(ConvertJsonValue("2024-09-01T23:00:00Z", "date"), "2024-09-01");
  EXPECT_EQ(ConvertJsonValue(json{{"a", 1}}, "json"), R"({"a":1})");
  EXPECT_EQ(ConvertJsonValue(7, "string"), "7");
}

TEST(TemplateTest, ExpandsDateEnvAndVars) {
  ::setenv("SLUICE_TEST_TPL", "s3", 1);
  auto s = ExpandTemplate("/v1/{{p}}?k={{env.SLUICE_TEST_TPL}}&d={{ date }}", "2024-09-02", {{"p", "day/{{date}}"}});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(*s, "/v1/day/2024-09-02?k=s3&d=2024-09-02");
  EXPECT_TRUE(ExpandTemplate("{{env.SLUICE_TEST_UNSET_X}}", "", {}).status().IsNotFound());
}

class HttpJsonCollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("http_json_test_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
  TestHttpServer server_;
  FakeClock clock_;
};

TEST_F(HttpJsonCollectorTest, FollowsNextFieldSendsEnvHeadersAndUpsertsByKey) {
  std::atomic<int> calls{0};
  std::string auth, day;
  server_.server().Get("/v1/downloads", [&](const httplib::Request& req, httplib::Response& res) {
    ++calls;
    auth = req.get_header_value("Authorization");
    day = req.get_param_value("day");
    if (calls == 1) {
      res.status = 502;  // one transient failure: retried
      return;
    }
    if (req.get_param_value("page") == "2") {
      res.set_content(R"({"data":[{"pkg":"c","n":"7","at":"2024-09-01T00:00:00Z","meta":{"x":[1]}}],"links":{"next":null}})",
                      "application/json");
    } else {
      res.set_content(R"({"data":[{"pkg":"a","n":1,"at":1725148800,"meta":null},{"pkg":"b","n":2.0,"at":"bad"}],
                         "links":{"next":"/v1/downloads?page=2&day=x"}})", "application/json");
    }
  });
  ASSERT_TRUE(server_.Start());
  ::setenv("SLUICE_TEST_API_TOKEN", "tok123", 1);
  CollectorConfig c = ReadOne(R"(collectors:
  pkg_downloads:
    kind: http_json
    url: "BASE/v1/downloads?day={{date}}"
    headers: { Authorization: { env: SLUICE_TEST_API_TOKEN, prefix: "Bearer " } }
    rows: $.data
    fields: { pkg: string, n: int64, at: timestamp, meta: { path: $.meta, type: json } }
    key: [pkg]
    next_field: $.links.next
    backoff: 1ms
)");
  c.http_json.url.replace(c.http_json.url.find("BASE"), 4, server_.base_url());
  c.base_url = server_.base_url();

  auto wh = DuckDbWarehouse::Open((dir_ / "wh.duckdb").string());
  ASSERT_TRUE(wh.ok()) << wh.status().ToString();
  CollectorRunOptions opts{(dir_ / "landing").string(), DirectWarehouseAccess(**wh), nullptr};
  RunContext ctx{"pkg_downloads", "pkg_downloads/r1", At("2024-09-02T03:00:00Z"), {}, {}, &clock_};
  auto run = RunCollector(c, ctx, opts);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->rows, 3);
  EXPECT_EQ(run->rows_per_table["pkg_downloads"], 3);
  EXPECT_EQ(auth, "Bearer tok123");
  EXPECT_EQ(day, "x");  // the second page's own query string, as the API gave it
  EXPECT_EQ(calls.load(), 3);
  EXPECT_TRUE(std::filesystem::exists(run->landed_file));
  ASSERT_EQ(run->notes.size(), 1u);  // "bad" timestamp -> NULL, noted

  auto q = (*wh)->Query("SELECT pkg, n, CAST(\"at\" AS VARCHAR), CAST(meta AS VARCHAR) FROM pkg_downloads ORDER BY pkg");
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  ASSERT_EQ(q->rows.size(), 3u);
  EXPECT_EQ(q->rows[0][2].value_or("NULL"), "2024-09-01 00:00:00");
  EXPECT_EQ(q->rows[1][1].value_or("NULL"), "2");
  EXPECT_FALSE(q->rows[1][2].has_value());
  EXPECT_EQ(q->rows[2][1].value_or("NULL"), "7");
  EXPECT_EQ(q->rows[2][3].value_or("NULL"), R"({"x":[1]})");

  calls = 1;  // no 502 this time
  ctx.run_id = "pkg_downloads/r2";
  ASSERT_TRUE(RunCollector(c, ctx, opts).ok());
  EXPECT_EQ((*wh)->Query("SELECT count(*) FROM pkg_downloads")->Scalar(), "3");
  EXPECT_EQ((*wh)->Query("SELECT count(DISTINCT run_id) FROM pkg_downloads")->Scalar(), "1");
  ::unsetenv("SLUICE_TEST_API_TOKEN");
}

TEST_F(HttpJsonCollectorTest, TopLevelArrayWithLinkPagination) {
  server_.server().Get("/items", [&](const httplib::Request& req, httplib::Response& res) {
    if (req.has_param("page")) {
      res.set_content(R"([{"id":3}])", "application/json");
    } else {
      res.set_header("Link", "<" + server_.base_url() + "/items?page=2>; rel=\"next\"");
      res.set_content(R"([{"id":1},{"id":2}])", "application/json");
    }
  });
  ASSERT_TRUE(server_.Start());
  CollectorConfig c = ReadOne(R"(collectors:
  items: { kind: http_json, url: "/items", rows: $, fields: { id: int64 }, pagination: link }
)");
  c.base_url = server_.base_url();
  HttpClientOptions o;
  o.base_url = server_.base_url();
  o.clock = &clock_;
  HttpClient client(o);
  auto out = CollectHttpJson(client, c.http_json, "items/r1", At("2024-09-02T03:00:00Z"));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->rows["items"].size(), 3u);
  EXPECT_EQ(out->rows["items"][2]["id"], 3);
  EXPECT_EQ(out->responses.size(), 2u);
  EXPECT_EQ(out->tables["items"].key, std::vector<std::string>{"id"});
}

// A snapshot API (totals as of now, no date in the body) keyed by the run's day, with the package asked for
// as a column: `value:` fields are the same in every row.
TEST_F(HttpJsonCollectorTest, ValueFieldsStampEveryRowWithTheDayAndAVar) {
  server_.server().Get("/api/packages/nebula3-python/recent", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"data":{"last_day":12,"last_week":80,"last_month":350},"package":"nebula3-python"})",
                    "application/json");
  });
  ASSERT_TRUE(server_.Start());
  CollectorConfig c = ReadOne(R"(collectors:
  pypi_recent:
    kind: http_json
    url: "/api/packages/{{package}}/recent"
    vars: { package: nebula3-python, period: last_week }
    rows: $.data
    fields:
      day: { value: "{{date}}", type: date }
      package: { value: "{{package}}" }
      last_day: int64
      last_month: int64
      chosen: { path: "$['{{period}}']", type: int64 }
    key: [day, package]
)");
  ASSERT_EQ(c.http_json.fields.size(), 5u);
  EXPECT_EQ(c.http_json.fields[0].value, "{{date}}");
  EXPECT_EQ(c.http_json.fields[1].type, "string");
  HttpClientOptions o;
  o.base_url = server_.base_url();
  o.clock = &clock_;
  HttpClient client(o);
  auto out = CollectHttpJson(client, c.http_json, "pypi_recent/r1", At("2024-09-02T03:00:00Z"));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->rows["pypi_recent"].size(), 1u);
  const json& row = out->rows["pypi_recent"][0];
  EXPECT_EQ(row["day"], "2024-09-02");
  EXPECT_EQ(row["package"], "nebula3-python");
  EXPECT_EQ(row["last_month"], 350);
  EXPECT_EQ(row["chosen"], 80);  // the path named its member by a var
  EXPECT_TRUE(out->notes.empty());
}

TEST(HttpJsonConfigTest, ValueFieldErrorsNameFileLineAndField) {
  auto c = ReadCollectors(YAML::Load(R"(collectors:
  a:
    kind: http_json
    url: /x
    fields:
      day: { value: "{{date}}", path: $.day, type: date }
      secret: { value: "{{env.SECRET_KEY}}" }
      pkg: { value: "{{nope}}" }
      n: { path: "$['{{env.SECRET_KEY}}']", type: int64 }
)")["collectors"], "sluice.yaml");
  ASSERT_FALSE(c.ok());
  const std::string m = c.status().message();
  EXPECT_NE(m.find("sluice.yaml:6:"), std::string::npos) << m;
  EXPECT_NE(m.find("collectors.a.fields.day.value: set path (from each row) or value, not both"), std::string::npos)
      << m;
  EXPECT_NE(m.find("sluice.yaml:7:"), std::string::npos) << m;
  EXPECT_NE(m.find("collectors.a.fields.secret.value: value may use only {{date}} and vars without env, "
                   "not {{env.SECRET_KEY}}"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("collectors.a.fields.pkg.value: value may use only {{date}} and vars without env, not {{nope}}"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("sluice.yaml:9:"), std::string::npos) << m;
  EXPECT_NE(m.find("collectors.a.fields.n: a path may use only {{date}} and vars, not {{env.SECRET_KEY}}"),
            std::string::npos)
      << m;
}

TEST_F(HttpJsonCollectorTest, MissingHeaderEnvFailsTheRunNamingTheVariable) {
  CollectorConfig c = ReadOne(R"(collectors:
  x: { kind: http_json, url: "http://127.0.0.1:1/", headers: { X-Key: { env: SLUICE_TEST_UNSET_KEY } }, fields: { id: int64 } }
)");
  auto wh = DuckDbWarehouse::Open((dir_ / "wh.duckdb").string());
  ASSERT_TRUE(wh.ok());
  RunContext ctx{"x", "x/r1", At("2024-09-02T03:00:00Z"), {}, {}, &clock_};
  auto run = RunCollector(c, ctx, {(dir_ / "landing").string(), DirectWarehouseAccess(**wh), nullptr});
  ASSERT_FALSE(run.ok());
  EXPECT_NE(run.status().message().find("SLUICE_TEST_UNSET_KEY is not set"), std::string::npos) << run.status().message();
}

}  // namespace
}  // namespace sluice
