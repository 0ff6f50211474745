// The ObjectStore contract, one test list run on both implementations (a local folder, and an S3 bucket on a
// real S3 server, s3rver on loopback), then what only S3 shows: the requests sent, and listings longer than a
// page. LandingStore and LandingReader over both stores are in landing_store_test.cc.
#include "landing/object_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <strings.h>

#include <filesystem>
#include <memory>
#include <string>

#include "landing/s3rver_test_server.h"

namespace sluice {

namespace fs = std::filesystem;

// One s3rver for the whole binary (landing_store_test.cc uses it too), stopped when the tests end.
testing::S3rverProcess* SharedS3rverForLanding() {
  static testing::S3rverProcess* server = [] {
    auto* s = new testing::S3rverProcess();
    Status st = s->Start(SLUICE_SOURCE_DIR, {"landing"});
    EXPECT_TRUE(st.ok()) << st.ToString();
    setenv("SLUICE_TEST_S3_KEY", "S3RVER", 1);
    setenv("SLUICE_TEST_S3_SECRET", "S3RVER", 1);
    return s;
  }();
  return server;
}

namespace {

class StopS3rverAtExit : public ::testing::Environment {
 public:
  void TearDown() override { SharedS3rverForLanding()->Stop(); }
};
const auto* const kStopS3rver = ::testing::AddGlobalTestEnvironment(new StopS3rverAtExit);

S3ClientOptions S3Options() {
  S3ClientOptions o;
  o.endpoint = SharedS3rverForLanding()->endpoint();
  o.bucket = "landing";
  o.access_key_env = "SLUICE_TEST_S3_KEY";
  o.secret_key_env = "SLUICE_TEST_S3_SECRET";
  o.max_attempts = 2;
  o.initial_backoff = std::chrono::milliseconds(10);
  return o;
}

std::string UniquePrefix() {
  static int n = 0;
  return "t" + std::to_string(getpid()) + "-" + std::to_string(++n);
}

// A fresh store per test: a new temp folder, or a new key prefix in the shared bucket.
class ObjectStoreContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "local") {
      dir_ = fs::temp_directory_path() / ("sluice-objstore-" + UniquePrefix());
      store_ = std::make_unique<LocalObjectStore>(dir_.string());
    } else {
      store_ = std::make_unique<S3ObjectStore>(S3Options(), "landing-tests/" + UniquePrefix(), /*list_page_size=*/3);
    }
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }
  fs::path dir_;
  std::unique_ptr<ObjectStore> store_;
};

TEST_P(ObjectStoreContract, PutThenGetReturnsTheBytes) {
  const std::string body("line 1\nline 2\n\0binary\xff", 22);
  ASSERT_TRUE(store_->PutIfAbsent("s/dt=2024-05-01/b.ndjson.zst", body).ok());
  auto got = store_->Get("s/dt=2024-05-01/b.ndjson.zst");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, body);
}

TEST_P(ObjectStoreContract, PuttingTheSameBytesAgainIsOkAndDifferentBytesAreRefusedNamingTheKey) {
  ASSERT_TRUE(store_->PutIfAbsent("k/x.json", "first").ok());
  EXPECT_TRUE(store_->PutIfAbsent("k/x.json", "first").ok());  // a retry of a write that landed
  const Status other = store_->PutIfAbsent("k/x.json", "second");
  EXPECT_EQ(other.code(), StatusCode::kAlreadyExists) << other.ToString();
  EXPECT_NE(other.message().find(store_->Locator("k/x.json")), std::string::npos) << other.message();
  EXPECT_EQ(*store_->Get("k/x.json"), "first");
}

TEST_P(ObjectStoreContract, AMissingKeyIsNotFound) {
  EXPECT_EQ(store_->Get("nope/missing").status().code(), StatusCode::kNotFound);
}

TEST_P(ObjectStoreContract, ListGivesEveryKeyUnderThePrefixInOrderAndNothingElse) {
  std::vector<std::string> keys;
  for (int i = 0; i < 8; ++i) keys.push_back("st/dt=2024-05-0" + std::to_string(i % 3 + 1) + "/b" + std::to_string(i));
  for (const auto& k : keys) ASSERT_TRUE(store_->PutIfAbsent(k, "x").ok()) << k;
  ASSERT_TRUE(store_->PutIfAbsent("stream2/dt=2024-05-01/b", "x").ok());
  ASSERT_TRUE(store_->PutIfAbsent("other/b", "x").ok());
  auto listed = store_->List("st/dt=");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(*listed, keys);
  auto one_day = store_->List("st/dt=2024-05-02/");
  ASSERT_TRUE(one_day.ok());
  EXPECT_EQ(*one_day, (std::vector<std::string>{"st/dt=2024-05-02/b1", "st/dt=2024-05-02/b4", "st/dt=2024-05-02/b7"}));
  EXPECT_TRUE(store_->List("absent/").value().empty());
}

TEST_P(ObjectStoreContract, PutVersionedKeepsTheFirstGroupAndWritesChangedContentAsTheNextVersion) {
  auto first = PutVersioned(*store_, "s/dt=2024-05-01/b-0", {{".data", "d1"}, {".manifest", "m1"}});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, "s/dt=2024-05-01/b-0");
  // The same group again is where it was.
  EXPECT_EQ(PutVersioned(*store_, "s/dt=2024-05-01/b-0", {{".data", "d1"}, {".manifest", "m1"}}).value(), *first);
  // Same data, another manifest: the whole group goes to ~2, the first stays as it was.
  auto second = PutVersioned(*store_, "s/dt=2024-05-01/b-0", {{".data", "d1"}, {".manifest", "m2"}});
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(*second, "s/dt=2024-05-01/b-0~2");
  EXPECT_EQ(*store_->Get("s/dt=2024-05-01/b-0.manifest"), "m1");
  EXPECT_EQ(*store_->Get("s/dt=2024-05-01/b-0~2.manifest"), "m2");
  EXPECT_EQ(*store_->Get("s/dt=2024-05-01/b-0~2.data"), "d1");
  EXPECT_EQ(PutVersioned(*store_, "s/dt=2024-05-01/b-0", {{".data", "d3"}, {".manifest", "m3"}}).value(),
            "s/dt=2024-05-01/b-0~3");
}

INSTANTIATE_TEST_SUITE_P(Stores, ObjectStoreContract, ::testing::Values("local", "s3"),
                         [](const auto& info) { return info.param; });

TEST(StemVersion, ReadsTheSuffixPutVersionedWrites) {
  std::string base;
  EXPECT_EQ(StemVersion("file-a.ndjson-0", &base), 1);
  EXPECT_EQ(base, "file-a.ndjson-0");
  EXPECT_EQ(StemVersion("file-a.ndjson-0~12", &base), 12);
  EXPECT_EQ(base, "file-a.ndjson-0");
  EXPECT_EQ(StemVersion("odd~x", &base), 1);
  EXPECT_EQ(base, "odd~x");
}

// ---- What only S3 shows ----

TEST(S3ObjectStore, KeysGoUnderThePrefixAndLocatorsAreS3Urls) {
  const std::string prefix = "pfx-" + UniquePrefix();
  S3ObjectStore store(S3Options(), prefix);  // no trailing slash: one is added
  EXPECT_EQ(store.prefix(), prefix + "/");
  ASSERT_TRUE(store.PutIfAbsent("a/b.json", "{}").ok());
  EXPECT_EQ(store.Locator("a/b.json"), "s3://landing/" + prefix + "/a/b.json");
  S3Client raw(S3Options());
  EXPECT_EQ(raw.GetObject(prefix + "/a/b.json").value(), "{}");
}

TEST(S3ObjectStore, PutIfAbsentTwiceSendsAPutThenOnlyReadsTheExistingObject) {
  S3ObjectStore store(S3Options(), "shapes-" + UniquePrefix());
  ASSERT_TRUE(store.PutIfAbsent("k", "v").ok());
  S3Exchange put = store.client().last_exchange();
  EXPECT_EQ(put.method, "PUT");
  EXPECT_NE(put.url.find("/landing/" + store.prefix() + "k"), std::string::npos) << put.url;
  bool if_none_match = false;
  for (const auto& [name, value] : put.request_headers)
    if_none_match |= strcasecmp(name.c_str(), "if-none-match") == 0 && value == "*";
  EXPECT_TRUE(if_none_match);
  // The second put finds the key (HEAD) and compares its bytes (GET): no second PUT reaches the server.
  ASSERT_TRUE(store.PutIfAbsent("k", "v").ok());
  EXPECT_EQ(store.client().last_exchange().method, "GET");
  EXPECT_EQ(store.PutIfAbsent("k", "w").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store.client().last_exchange().method, "GET");
}

TEST(S3ObjectStore, ListingLongerThanAPageFollowsContinuationTokens) {
  S3ObjectStore store(S3Options(), "pages-" + UniquePrefix(), /*list_page_size=*/2);
  std::vector<std::string> keys;
  for (int i = 0; i < 7; ++i) keys.push_back("s/k" + std::to_string(i));
  for (const auto& k : keys) ASSERT_TRUE(store.PutIfAbsent(k, k).ok());
  auto listed = store.List("s/");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(*listed, keys);
  // Four pages of two: the last request continued a truncated listing.
  const S3Exchange last = store.client().last_exchange();
  EXPECT_EQ(last.method, "GET");
  EXPECT_NE(last.url.find("list-type=2"), std::string::npos) << last.url;
  EXPECT_NE(last.url.find("continuation-token="), std::string::npos) << last.url;
  EXPECT_NE(last.url.find("max-keys=2"), std::string::npos) << last.url;
}

TEST(OpenObjectStore, TheConfigChoosesTheStore) {
  auto local = ParseConfig("landing: { path: /tmp/land }\nstreams: {}\n", "t.yaml");
  ASSERT_TRUE(local.ok()) << local.status().ToString();
  EXPECT_EQ(OpenObjectStore(*local)->Locator("a/b"), "/tmp/land/a/b");
  auto s3 = ParseConfig(
      "landing: { kind: s3, endpoint: 'http://127.0.0.1:1', bucket: bkt, prefix: raw/, region: auto, "
      "access_key_env: K, secret_key_env: S }\nstreams: {}\n",
      "t.yaml");
  ASSERT_TRUE(s3.ok()) << s3.status().ToString();
  EXPECT_EQ(OpenObjectStore(*s3)->Locator("a/b"), "s3://bkt/raw/a/b");
}

}  // namespace
}  // namespace sluice
