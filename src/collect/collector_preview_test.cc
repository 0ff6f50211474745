// PreviewCollector (`sluice collect --dry-run`) against a loopback API: the rows it would load with their
// columns, the members the selected rows hold (typed from their values), the pages followed and the
// rate-limit headers of the last one.
#include "collect/collector_preview.h"

#include <gtest/gtest.h>

#include "core/http_test_server.h"
#include "core/time.h"

namespace sluice {
namespace {

using nlohmann::json;

TimePoint At(const char* iso) { return TimePoint(std::chrono::microseconds(ParseIsoMicros(iso).value())); }

TEST(InferColumnTypeTest, TypesFollowTheValues) {
  EXPECT_EQ(InferColumnType({1, 2, nullptr}), "int64");
  EXPECT_EQ(InferColumnType({1, 2.5}), "float64");
  EXPECT_EQ(InferColumnType({true, false}), "bool");
  EXPECT_EQ(InferColumnType({"2024-09-01", "2024-09-02"}), "date");
  EXPECT_EQ(InferColumnType({"2024-09-01T12:00:00Z"}), "timestamp");
  EXPECT_EQ(InferColumnType({"2024-09-01", "2024-09-01T12:00:00Z"}), "string");
  EXPECT_EQ(InferColumnType({"12", "x"}), "string");
  EXPECT_EQ(InferColumnType({json{{"a", 1}}, 3}), "json");
  EXPECT_EQ(InferColumnType({nullptr}), "string");
}

TEST(ReadRateLimitTest, GitHubResetIsAUnixTimeTheDraftsIsADelay) {
  const TimePoint now = At("2024-09-02T03:00:00Z");
  auto gh = ReadRateLimit({{"x-ratelimit-limit", "5000"},
                           {"x-ratelimit-remaining", "4987"},
                           {"x-ratelimit-reset", std::to_string(ToUnixSeconds(now) + 1800)}},
                          now);
  ASSERT_TRUE(gh.has_value());
  EXPECT_EQ(gh->remaining, "4987");
  EXPECT_EQ(gh->limit, "5000");
  EXPECT_EQ(gh->reset_at, "2024-09-02 03:30:00 UTC (in 30 min)");
  auto draft = ReadRateLimit(
      {{"ratelimit-limit", "100;w=21600"}, {"ratelimit-remaining", "76;w=21600"}, {"ratelimit-reset", "90"}}, now);
  ASSERT_TRUE(draft.has_value());
  EXPECT_EQ(draft->remaining, "76");
  EXPECT_EQ(draft->limit, "100");
  EXPECT_EQ(draft->reset_at, "2024-09-02 03:01:30 UTC (in 90 s)");
  EXPECT_FALSE(ReadRateLimit({}, now).has_value());
}

TEST(CollectorPreviewTest, ShowsRowsColumnsUnmappedMembersPagesAndRateLimit) {
  TestHttpServer server;
  int hits = 0;
  server.server().Get("/v1/items", [&](const httplib::Request& req, httplib::Response& res) {
    ++hits;
    res.set_header("X-RateLimit-Limit", "60");
    if (req.has_param("page")) {
      res.set_header("X-RateLimit-Remaining", "58");
      res.set_header("X-RateLimit-Reset", "1725249600");
      res.set_content(R"({"items":[{"id":3,"name":"c","created":"2024-09-01T10:00:00Z","day":"2024-09-01"}]})",
                      "application/json");
      return;
    }
    res.set_header("X-RateLimit-Remaining", "59");
    res.set_header("Link", "<" + server.base_url() + "/v1/items?page=2&access_token=s3cret>; rel=\"next\"");
    res.set_content(R"({"items":[{"id":1,"name":"a","meta":{"k":1}},{"id":2,"name":null,"day":"2024-08-31"}]})",
                    "application/json");
  });
  ASSERT_TRUE(server.Start());
  auto configs = ReadCollectors(YAML::Load(R"(collectors:
  items:
    kind: http_json
    url: /v1/items
    rows: $.items
    fields: { id: int64, seen: { value: "{{date}}", type: date } }
    key: [id]
    pagination: link
)")["collectors"],
                                "test.yaml");
  ASSERT_TRUE(configs.ok()) << configs.status().ToString();
  CollectorConfig c = (*configs)[0];
  c.base_url = server.base_url();
  FakeClock clock(At("2024-09-02T03:00:00Z"));

  auto p = PreviewCollector(c, At("2024-09-02T03:00:00Z"), &clock);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(hits, 2);
  ASSERT_EQ(p->tables.size(), 1u);
  EXPECT_EQ(p->tables[0].table.name, "items");
  ASSERT_EQ(p->tables[0].rows.size(), 3u);
  EXPECT_EQ(p->tables[0].rows[2]["id"], 3);
  EXPECT_EQ(p->tables[0].rows[2]["seen"], "2024-09-02");
  ASSERT_EQ(p->tables[0].table.columns.size(), 4u);  // id, seen, collected_at, run_id
  EXPECT_EQ(p->tables[0].table.columns[1].type.Describe(), "date");

  ASSERT_EQ(p->pages.size(), 2u);
  EXPECT_EQ(p->pages[0].status, 200);
  EXPECT_EQ(p->pages[1].url.find("s3cret"), std::string::npos) << p->pages[1].url;
  ASSERT_TRUE(p->rate_limit.has_value());
  EXPECT_EQ(p->rate_limit->remaining, "58");  // the last response's
  EXPECT_EQ(p->rate_limit->limit, "60");
  EXPECT_EQ(p->rate_limit->reset_at, "2024-09-02 04:00:00 UTC (in 60 min)");

  std::vector<std::string> members;
  for (const RowMember& m : p->row_members) members.push_back(m.name + ":" + m.type + (m.mapped ? "*" : ""));
  EXPECT_EQ(members,
            (std::vector<std::string>{"id:int64*", "meta:json", "name:string", "day:date", "created:timestamp"}));
  EXPECT_EQ(p->row_members[2].example, "\"a\"");
  EXPECT_TRUE(p->failed.empty());
}

// The key sits in the URL under a parameter name RedactUrl does not know: the preview still hides it.
TEST(CollectorPreviewTest, AFailingPageIsListedNotAnErrorAndAKeyInTheUrlStaysHidden) {
  TestHttpServer server;
  std::string sig;
  server.server().Get("/v1/items", [&](const httplib::Request& req, httplib::Response& res) {
    sig = req.get_param_value("ref");
    res.status = 404;
    res.set_content("<html>gone</html>", "text/html");
  });
  ASSERT_TRUE(server.Start());
  ::setenv("SLUICE_TEST_PREVIEW_SIG", "s1g-s3cret", 1);
  auto configs = ReadCollectors(YAML::Load("collectors:\n  items: { kind: http_json, url: \"/v1/items?ref={{env."
                                           "SLUICE_TEST_PREVIEW_SIG}}\", fields: { id: int64 } }\n")["collectors"],
                                "test.yaml");
  ASSERT_TRUE(configs.ok()) << configs.status().ToString();
  CollectorConfig c = (*configs)[0];
  c.base_url = server.base_url();
  FakeClock clock;
  auto p = PreviewCollector(c, clock.Now(), &clock);
  ::unsetenv("SLUICE_TEST_PREVIEW_SIG");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(sig, "s1g-s3cret");
  EXPECT_EQ(p->parts_ok, 0);
  ASSERT_EQ(p->failed.size(), 1u);
  EXPECT_NE(p->failed[0].find("HTTP 404"), std::string::npos) << p->failed[0];
  EXPECT_EQ(p->failed[0].find("s1g-s3cret"), std::string::npos) << p->failed[0];
  ASSERT_EQ(p->pages.size(), 1u);
  EXPECT_EQ(p->pages[0].status, 404);
  EXPECT_EQ(p->pages[0].url, server.base_url() + "/v1/items?ref=<env.SLUICE_TEST_PREVIEW_SIG>");
  EXPECT_TRUE(p->row_members.empty());
}

}  // namespace
}  // namespace sluice
