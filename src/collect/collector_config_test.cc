#include "collect/collector_config.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

Result<std::vector<CollectorConfig>> Read(const std::string& yaml) {
  YAML::Node root = YAML::Load(yaml);
  return ReadCollectors(root["collectors"], "sluice.yaml");
}

TEST(CollectorConfigTest, ReadsEveryKind) {
  auto c = Read(R"(collectors:
  github:
    kind: github
    schedule: "0 3 * * *"
    org: acme
    token_env: GITHUB_TOKEN
    base_url: http://127.0.0.1:9
    timeout: 10m
  hub: { kind: dockerhub, namespace: vesoft, timezone: Europe/Berlin }
  stats:
    kind: http_json
    url: "https://api.example.com/v1/{{day_path}}?key={{env.API_KEY}}"
    vars: { day_path: "stats/{{date}}" }
    headers: { Authorization: { env: API_TOKEN, prefix: "Bearer " }, Accept: application/json }
    rows: "$.data[*]"
    fields:
      id: int64
      name: { path: $.attributes.name, type: string }
      at: { path: "$.ts", type: timestamp }
    key: [id]
    next_field: $.links.next
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->size(), 3u);
  const CollectorConfig& gh = (*c)[0];
  EXPECT_EQ(gh.kind, "github");
  EXPECT_EQ(gh.github.org, "acme");
  EXPECT_EQ(gh.timeout, std::chrono::minutes(10));
  EXPECT_EQ(gh.schedule->expression(), "0 3 * * *");
  EXPECT_EQ(gh.base_url, "http://127.0.0.1:9");
  const CollectorConfig& hub = (*c)[1];
  EXPECT_EQ(hub.dockerhub.namespace_name, "vesoft");
  EXPECT_EQ(hub.base_url, "https://hub.docker.com");
  EXPECT_EQ(hub.schedule->time_zone(), "Europe/Berlin");
  const HttpJsonCollectorConfig& h = (*c)[2].http_json;
  EXPECT_EQ(h.table, "stats");
  EXPECT_EQ(h.rows, "$.data[*]");
  ASSERT_EQ(h.fields.size(), 3u);
  EXPECT_EQ(h.fields[0].path, "$.id");
  EXPECT_EQ(h.fields[1].path, "$.attributes.name");
  EXPECT_EQ(h.key, std::vector<std::string>{"id"});
  EXPECT_EQ(h.pagination, Pagination::kNextField);
  EXPECT_EQ(h.next_field, "links.next");
  ASSERT_EQ(h.headers.size(), 2u);
  EXPECT_EQ(h.headers[0].env, "API_TOKEN");
  EXPECT_EQ(h.headers[0].prefix, "Bearer ");
}

TEST(CollectorConfigTest, EveryErrorNamesFileLineAndField) {
  auto c = Read(R"(collectors:
  a: { kind: gitlab }
  b: { kind: github, schedule: "61 * * * *", org: acme }
  c: { kind: github }
  d: { kind: dockerhub }
  e: { kind: http_json, fields: { id: int64 } }
  f: { kind: http_json, url: "http://x/{{nope}}", rows: "data", fields: { id: integer }, key: [x] }
)");
  ASSERT_FALSE(c.ok());
  const std::string m = c.status().message();
  EXPECT_NE(m.find("sluice.yaml:2:"), std::string::npos) << m;
  EXPECT_NE(m.find("collectors.a.kind: unknown kind 'gitlab'"), std::string::npos) << m;
  EXPECT_NE(m.find("sluice.yaml:3:"), std::string::npos) << m;
  EXPECT_NE(m.find("collectors.b.schedule: cron \"61 * * * *\": minute: 61 is out of range 0-59"), std::string::npos) << m;
  EXPECT_NE(m.find("collectors.c.org: set exactly one of org"), std::string::npos) << m;
  EXPECT_NE(m.find("collectors.d.namespace: required field is missing"), std::string::npos) << m;
  EXPECT_NE(m.find("collectors.e.url: required field is missing"), std::string::npos) << m;
  EXPECT_NE(m.find("collectors.f.url: unknown template variable {{nope}}"), std::string::npos) << m;
  EXPECT_NE(m.find("collectors.f.rows: JSON path 'data': must start with $"), std::string::npos) << m;
  EXPECT_NE(m.find("collectors.f.fields.id: unknown type 'integer'"), std::string::npos) << m;
  EXPECT_NE(m.find("collectors.f.key: 'x' is not one of fields"), std::string::npos) << m;
}

}  // namespace
}  // namespace sluice
