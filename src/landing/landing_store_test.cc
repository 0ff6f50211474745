// LandingStore and LandingReader over both object stores (a local folder, an S3 bucket on s3rver, started once
// for the binary by object_store_test.cc's SharedS3rver): the keys a batch lands under, a retried landing, a
// batch id landed again with other content, and the rebuild that backfill and ClickHouse's recovery rely on.
#include "landing/landing_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "core/config.h"
#include "core/record_parser.h"
#include "core/time.h"
#include "landing/landing_reader.h"
#include "landing/s3rver_test_server.h"

namespace sluice {
testing::S3rverProcess* SharedS3rverForLanding();  // object_store_test.cc
namespace {

namespace fs = std::filesystem;

Config StreamConfigFor() {
  auto c = ParseConfig(R"(landing: { path: /unused }
streams:
  ev:
    event_time: ts
    schema: { ts: timestamp, n: int64 }
    sources: [ { kind: http } ]
)",
                       "t.yaml");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return std::move(*c);
}

// `count` records from offset `first` of partition p0, one bad line among them when `bad`.
std::unique_ptr<Batch> MakeBatch(const StreamConfig& s, int64_t first, int count, bool bad = false) {
  auto b = std::make_unique<Batch>(&s);
  b->source = "ev.http";
  RecordParser p(&s);
  const uint32_t part = b->PartitionIndex("p0");
  for (int i = 0; i < count; ++i) {
    std::string line = bad && i == 1 ? "{not json"
                                     : R"({"ts":"2024-05-01T10:00:0)" + std::to_string(i % 10) + R"(Z","n":)" +
                                           std::to_string(first + i) + "}";
    b->landing_data += line + "\n";
    p.Parse(line, part, first + i, first + i + 1, *b);
  }
  return b;
}

class LandingOverStores : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "local") {
      dir_ = fs::temp_directory_path() / ("sluice-landing-" + std::to_string(getpid()) + "-" +
                                          ::testing::UnitTest::GetInstance()->current_test_info()->name());
      fs::remove_all(dir_);
      store_ = std::make_shared<LocalObjectStore>(dir_.string());
    } else {
      S3ClientOptions o;
      o.endpoint = SharedS3rverForLanding()->endpoint();
      o.bucket = "landing";
      o.access_key_env = "SLUICE_TEST_S3_KEY";
      o.secret_key_env = "SLUICE_TEST_S3_SECRET";
      o.max_attempts = 2;
      static int n = 0;
      store_ =
          std::make_shared<S3ObjectStore>(o, "landing-store-" + std::to_string(getpid()) + "-" + std::to_string(++n),
                                          /*list_page_size=*/2);
    }
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }
  Config config_ = StreamConfigFor();
  fs::path dir_;
  std::shared_ptr<ObjectStore> store_;
};

TEST_P(LandingOverStores, ABatchLandsUnderDeterministicKeysAndRebuildsAsItWas) {
  auto batch = MakeBatch(config_.streams[0], 100, 5, /*bad=*/true);
  batch->received_at_us = *ParseIsoMicros("2024-05-02T23:59:59.5Z");
  LandingStore landing(store_);
  auto landed = landing.Land(*batch);
  ASSERT_TRUE(landed.ok()) << landed.status().ToString();
  const std::string stem = "ev/dt=2024-05-02/" + batch->id;
  EXPECT_EQ(*landed, store_->Locator(stem + ".ndjson.zst"));
  EXPECT_EQ(store_->List("ev/").value(),
            (std::vector<std::string>{stem + ".manifest.json", stem + ".ndjson.zst", stem + ".positions.zst"}));
  if (GetParam() == "s3") EXPECT_EQ(landed->rfind("s3://landing/landing-store-", 0), 0u) << *landed;

  LandingReader reader(store_);
  auto listed = reader.List("ev");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].day, "2024-05-02");
  EXPECT_EQ((*listed)[0].batch_id, batch->id);
  EXPECT_EQ((*listed)[0].data_path, *landed);
  auto rebuilt = reader.Rebuild((*listed)[0], &config_.streams[0]);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status().ToString();
  EXPECT_EQ(rebuilt->id, batch->id);
  EXPECT_EQ(rebuilt->source, batch->source);
  EXPECT_EQ(rebuilt->received_at_us, batch->received_at_us);
  EXPECT_EQ(rebuilt->rows(), 4u);
  EXPECT_EQ(rebuilt->dead_letters.size(), 1u);
  EXPECT_EQ(rebuilt->landing_data, batch->landing_data);
  EXPECT_EQ(rebuilt->ranges.at("p0").first, 100);
  EXPECT_EQ(rebuilt->ranges.at("p0").next, 105);

  EXPECT_TRUE(reader.List("ev", std::string("2024-05-03")).value().empty());
  EXPECT_EQ(reader.List("ev", std::string("2024-05-01"), std::string("2024-05-02")).value().size(), 1u);
  EXPECT_TRUE(reader.List("nothing").value().empty());
}

TEST_P(LandingOverStores, LandingTheSameBatchAgainFindsItThere) {
  auto batch = MakeBatch(config_.streams[0], 0, 3);
  LandingStore landing(store_);
  auto first = landing.Land(*batch);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto again = landing.Land(*batch);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, *first);
  EXPECT_EQ(store_->List("ev/").value().size(), 3u);
}

// A batch id is (source, partition, first offset). The same id lands with other content when its records are
// read again after a landing that was never loaded (kill -9 before the commit, a failed load): received at
// another time, perhaps cut elsewhere. The first landing stays; the new one is the version the reader takes.
TEST_P(LandingOverStores, ABatchIdLandedAgainWithOtherContentIsKeptBesideAndTheNewestIsRead) {
  const auto day = *ParseIsoMicros("2024-05-02T10:00:00Z");
  auto first = MakeBatch(config_.streams[0], 0, 3);
  first->received_at_us = day;
  auto recut = MakeBatch(config_.streams[0], 0, 6);
  recut->received_at_us = day + 1'000'000;
  ASSERT_EQ(first->id, recut->id);
  LandingStore landing(store_);
  ASSERT_TRUE(landing.Land(*first).ok());
  auto second = landing.Land(*recut);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(*second, store_->Locator("ev/dt=2024-05-02/" + first->id + "~2.ndjson.zst"));
  EXPECT_EQ(store_->List("ev/").value().size(), 6u);  // nothing replaced

  LandingReader reader(store_);
  auto listed = reader.List("ev");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].batch_id, first->id);
  EXPECT_EQ((*listed)[0].data_path, *second);
  auto rebuilt = reader.Rebuild((*listed)[0], &config_.streams[0]);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status().ToString();
  EXPECT_EQ(rebuilt->rows(), 6u);
  EXPECT_EQ(rebuilt->id, first->id);
}

INSTANTIATE_TEST_SUITE_P(Stores, LandingOverStores, ::testing::Values("local", "s3"),
                         [](const auto& info) { return info.param; });

TEST(LandingStore, AFolderLandingIsLaidOutAsBefore) {
  const fs::path dir = fs::temp_directory_path() / ("sluice-landing-layout-" + std::to_string(getpid()));
  fs::remove_all(dir);
  Config config = StreamConfigFor();
  auto batch = MakeBatch(config.streams[0], 7, 2);
  batch->received_at_us = *ParseIsoMicros("2024-05-01T00:00:00Z");
  LandingStore landing(dir.string());
  auto landed = landing.Land(*batch);
  ASSERT_TRUE(landed.ok()) << landed.status().ToString();
  const fs::path folder = dir / "ev/dt=2024-05-01";
  EXPECT_EQ(*landed, (folder / (batch->id + ".ndjson.zst")).string());
  EXPECT_TRUE(fs::exists(folder / (batch->id + ".positions.zst")));
  EXPECT_TRUE(fs::exists(folder / (batch->id + ".manifest.json")));
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(folder)) files += e.is_regular_file();
  EXPECT_EQ(files, 3u);  // no temp file left behind
  fs::remove_all(dir);
}

}  // namespace
}  // namespace sluice
