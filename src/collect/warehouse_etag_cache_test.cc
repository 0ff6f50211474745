#include "collect/warehouse_etag_cache.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <thread>
#include <vector>

#include "warehouse/duckdb/duckdb_warehouse.h"

namespace sluice {
namespace {

class WarehouseEtagCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("etag_cache_test_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<Warehouse> Open() {
    auto wh = DuckDbWarehouse::Open((dir_ / "wh.duckdb").string());
    EXPECT_TRUE(wh.ok()) << wh.status().ToString();
    return wh.ok() ? std::move(*wh) : nullptr;
  }
  std::string Scalar(Warehouse& w, const std::string& sql) {
    auto q = w.Query(sql);
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    return q.ok() ? q->Scalar() : "";
  }

  std::filesystem::path dir_;
  FakeClock clock_{FromUnixSeconds(1'725'246'000)};  // 2024-09-02 03:00 UTC
};

const std::string kUrl = "https://api.github.com/repos/acme/nebula";

TEST_F(WarehouseEtagCacheTest, PutGetOverwriteAndSurviveReopening) {
  const std::string body = R"({"name":"nebula","description":"it's \"quoted\" ünïcode","stargazers_count":1200})";
  {
    auto wh = Open();
    ASSERT_TRUE(wh);
    WarehouseEtagCache cache(DirectWarehouseAccess(*wh), {.clock = &clock_});
    ASSERT_TRUE(cache.Init().ok());
    EXPECT_FALSE(cache.Get(kUrl).has_value());

    cache.Put(kUrl, {"W/\"v1\"", "{}", {{"content-type", "application/json"}}});
    // Newer 200s replace older ones: one row per URL.
    cache.Put(kUrl, {"W/\"v2\"",
                     body,
                     {{"content-type", "application/json; charset=utf-8"},
                      {"link", "<https://api.github.com/x?page=2>; rel=\"next\""},
                      {"set-cookie", "session=abc"},
                      {"x-ratelimit-remaining", "4999"}}});
    cache.Put(kUrl + "/releases", {"\"r1\"", "[]", {}});
    EXPECT_EQ(Scalar(*wh, "SELECT count(*) FROM _sluice_http_cache"), "2");
    EXPECT_EQ(Scalar(*wh, "SELECT body_bytes FROM _sluice_http_cache WHERE url = '" + kUrl + "'"),
              std::to_string(body.size()));
    EXPECT_EQ(Scalar(*wh, "SELECT CAST(fetched_at AS VARCHAR) FROM _sluice_http_cache LIMIT 1"), "2024-09-02 03:00:00");
  }
  {
    auto wh = Open();  // another process, another day
    ASSERT_TRUE(wh);
    WarehouseEtagCache cache(DirectWarehouseAccess(*wh), {.clock = &clock_});
    ASSERT_TRUE(cache.Init().ok());
    auto e = cache.Get(kUrl);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->etag, "W/\"v2\"");
    EXPECT_EQ(e->body, body);
    // Only what a 304 reuses is kept: no cookie, no rate-limit counters.
    EXPECT_EQ(e->headers, (HttpHeaders{{"content-type", "application/json; charset=utf-8"},
                                       {"link", "<https://api.github.com/x?page=2>; rel=\"next\""}}));
    EXPECT_EQ(cache.Get(kUrl + "/releases")->etag, "\"r1\"");
    EXPECT_FALSE(cache.Get(kUrl + "/other").has_value());
  }
}

TEST_F(WarehouseEtagCacheTest, KeepsNoTokensNoLargeOrBinaryBodiesAndExpiresOldEntries) {
  auto wh = Open();
  ASSERT_TRUE(wh);
  WarehouseEtagCache cache(DirectWarehouseAccess(*wh), {.max_body_bytes = 1000, .clock = &clock_});
  ASSERT_TRUE(cache.Init().ok());

  // A token in the query string would land in the table: such URLs are not cached.
  const std::string with_token = "https://api.example.com/stats?access_token=s3cret";
  cache.Put(with_token, {"\"t\"", "{}", {}});
  EXPECT_FALSE(cache.Get(with_token).has_value());

  // A body over the limit is not kept, and replaces (removes) the older entry.
  cache.Put(kUrl, {"\"small\"", "{}", {}});
  ASSERT_TRUE(cache.Get(kUrl).has_value());
  cache.Put(kUrl, {"\"big\"", std::string(1001, 'x'), {}});
  EXPECT_FALSE(cache.Get(kUrl).has_value());
  cache.Put(kUrl, {"\"exact\"", std::string(1000, 'x'), {}});
  EXPECT_EQ(cache.Get(kUrl)->body.size(), 1000u);

  // Bodies that are not text (a NUL byte, invalid UTF-8) are not kept.
  cache.Put(kUrl + "/nul", {"\"n\"", std::string("a\0b", 3), {}});
  cache.Put(kUrl + "/latin1", {"\"l\"", "caf\xe9", {}});
  EXPECT_FALSE(cache.Get(kUrl + "/nul").has_value());
  EXPECT_FALSE(cache.Get(kUrl + "/latin1").has_value());
  EXPECT_EQ(Scalar(*wh, "SELECT count(*) FROM _sluice_http_cache"), "1");
  EXPECT_EQ(Scalar(*wh, "SELECT count(*) FROM _sluice_http_cache WHERE url LIKE '%s3cret%' OR body LIKE '%s3cret%'"),
            "0");

  // Init drops what was fetched more than max_age ago.
  cache.Put(kUrl + "/old", {"\"o\"", "[]", {}});
  clock_.Advance(std::chrono::hours(24 * 31));
  cache.Put(kUrl + "/new", {"\"w\"", "[]", {}});
  ASSERT_TRUE(cache.Init().ok());
  EXPECT_FALSE(cache.Get(kUrl + "/old").has_value());
  EXPECT_FALSE(cache.Get(kUrl).has_value());
  EXPECT_TRUE(cache.Get(kUrl + "/new").has_value());
}

// HttpClient::Send may call the cache from several threads; the access serialises the warehouse.
TEST_F(WarehouseEtagCacheTest, ConcurrentPutsAndGetsThroughOneAccess) {
  auto wh = Open();
  ASSERT_TRUE(wh);
  WarehouseEtagCache cache(DirectWarehouseAccess(*wh), {.clock = &clock_});
  ASSERT_TRUE(cache.Init().ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        const std::string url = kUrl + "/" + std::to_string(i % 10);
        cache.Put(url, {"\"" + std::to_string(t) + "\"", "[" + std::to_string(i) + "]", {}});
        (void)cache.Get(url);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(Scalar(*wh, "SELECT count(*) FROM _sluice_http_cache"), "10");
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(cache.Get(kUrl + "/" + std::to_string(i)).has_value()) << i;
}

// The table cannot be created (a read-only warehouse, a broken file): collectors still run, on a memory cache.
TEST_F(WarehouseEtagCacheTest, AnUnpreparableTableFallsBackToAMemoryCache) {
  WarehouseAccess failing = [](const std::function<Status(Warehouse&)>&) { return Status::Invalid("disk gone"); };
  std::shared_ptr<EtagCache> cache = MakePersistentEtagCache(failing);
  ASSERT_TRUE(cache);
  EXPECT_NE(dynamic_cast<MemoryEtagCache*>(cache.get()), nullptr);
  // And a warehouse that fails under a prepared cache is a miss, not an error.
  WarehouseEtagCache broken(failing);
  broken.Put(kUrl, {"\"x\"", "{}", {}});
  EXPECT_FALSE(broken.Get(kUrl).has_value());
}

}  // namespace
}  // namespace sluice
