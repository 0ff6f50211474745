// S3Client against a real S3 server on loopback: s3rver 3.7.1 (tests/s3rver, installed by scripts/setup),
// started per test suite on a free port with a temporary directory and stopped by its PID. s3rver does not
// verify SigV4 signatures (sigv4_test.cc checks the signer against AWS's vectors); it does require a known
// access key id, S3RVER.
#include "landing/s3_client.h"

#include "landing/s3rver_test_server.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <regex>
#include <string>
#include <thread>

namespace sluice {
namespace {

class S3rverTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new testing::S3rverProcess();
    Status st = server_->Start(SLUICE_SOURCE_DIR, {"landing"});
    ASSERT_TRUE(st.ok()) << st.ToString();
    setenv("SLUICE_TEST_S3_KEY", "S3RVER", 1);
    setenv("SLUICE_TEST_S3_SECRET", "S3RVER", 1);
  }

  static void TearDownTestSuite() {
    delete server_;  // stops it by its PID and removes its folder
    server_ = nullptr;
  }

  static S3ClientOptions Options(const std::string& bucket = "landing") {
    S3ClientOptions o;
    o.endpoint = server_->endpoint();
    o.bucket = bucket;
    o.access_key_env = "SLUICE_TEST_S3_KEY";
    o.secret_key_env = "SLUICE_TEST_S3_SECRET";
    o.max_attempts = 2;
    o.initial_backoff = std::chrono::milliseconds(10);
    return o;
  }

  static inline testing::S3rverProcess* server_ = nullptr;
};

TEST_F(S3rverTest, PutThenGetAndHeadReturnTheBytes) {
  S3Client s3(Options());
  const std::string body = "{\"a\":1}\n{\"a\":2}\n";
  ASSERT_TRUE(s3.PutObject("tracking/dt=2024-05-01/b1.ndjson.zst", body).ok());
  auto got = s3.GetObject("tracking/dt=2024-05-01/b1.ndjson.zst");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, body);
  auto head = s3.HeadObject("tracking/dt=2024-05-01/b1.ndjson.zst");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->size, body.size());
  EXPECT_FALSE(head->etag.empty());
}

TEST_F(S3rverTest, PutOfAnExistingKeyIsRefusedAndKeepsTheFirstBody) {
  S3Client s3(Options());
  ASSERT_TRUE(s3.PutObject("dup/key", "first").ok());
  const Status again = s3.PutObject("dup/key", "second");
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists) << again.ToString();
  EXPECT_EQ(*s3.GetObject("dup/key"), "first");
}

TEST_F(S3rverTest, AMissingKeyIsNotFound) {
  S3Client s3(Options());
  EXPECT_EQ(s3.GetObject("nope/missing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(s3.HeadObject("nope/missing").status().code(), StatusCode::kNotFound);
}

TEST_F(S3rverTest, AMissingBucketIsNotFound) {
  S3Client s3(Options("no-such-bucket"));
  EXPECT_EQ(s3.GetObject("k").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(s3.ListObjectsV2("").status().code(), StatusCode::kNotFound);
}

TEST_F(S3rverTest, ListFollowsContinuationTokensAcrossPages) {
  S3Client s3(Options());
  std::vector<std::string> keys;
  for (int i = 0; i < 7; ++i)
    keys.push_back("list/dt=2024-05-0" + std::to_string(i % 3 + 1) + "/b" + std::to_string(i));
  for (const auto& k : keys) ASSERT_TRUE(s3.PutObject(k, "x" + k).ok()) << k;
  ASSERT_TRUE(s3.PutObject("other/not-listed", "x").ok());

  auto first = s3.ListObjectsV2("list/", "", 3);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->objects.size(), 3u);
  EXPECT_TRUE(first->truncated);
  EXPECT_FALSE(first->next_continuation_token.empty());

  auto all = s3.ListAll("list/", 3);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  std::vector<std::string> listed;
  for (const auto& o : *all) {
    listed.push_back(o.key);
    EXPECT_EQ(o.size, ("x" + o.key).size());
  }
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(listed, keys);  // S3 lists in key order, each key once

  auto grouped = s3.ListObjectsV2("list/", "", 1000, "/");
  ASSERT_TRUE(grouped.ok());
  EXPECT_EQ(grouped->common_prefixes,
            (std::vector<std::string>{"list/dt=2024-05-01/", "list/dt=2024-05-02/", "list/dt=2024-05-03/"}));
}

TEST_F(S3rverTest, RequestsCarryAWellFormedSigV4Authorization) {
  S3Client s3(Options());
  ASSERT_TRUE(s3.PutObject("auth/k", "v").ok());
  const S3Exchange last = s3.last_exchange();
  EXPECT_EQ(last.method, "PUT");
  EXPECT_EQ(last.url, server_->endpoint() + "/landing/auth/k");
  std::string authorization, amz_date;
  for (const auto& [name, value] : last.request_headers) {
    if (name == "Authorization") authorization = value;
    if (name == "x-amz-date") amz_date = value;
  }
  ASSERT_TRUE(std::regex_match(amz_date, std::regex(R"(\d{8}T\d{6}Z)"))) << amz_date;
  const std::regex shape(
      R"(AWS4-HMAC-SHA256 Credential=S3RVER/(\d{8})/us-east-1/s3/aws4_request, )"
      R"(SignedHeaders=content-type;host;if-none-match;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64})");
  std::smatch m;
  ASSERT_TRUE(std::regex_match(authorization, m, shape)) << authorization;
  EXPECT_EQ(m[1].str(), amz_date.substr(0, 8));
}

TEST_F(S3rverTest, MissingCredentialsAreInvalidAndNameTheVariablesNotTheValues) {
  S3ClientOptions o = Options();
  o.secret_key_env = "SLUICE_TEST_S3_UNSET_VARIABLE";
  S3Client s3(o);
  const Status st = s3.PutObject("k", "v");
  EXPECT_EQ(st.code(), StatusCode::kInvalid);
  EXPECT_NE(st.message().find("SLUICE_TEST_S3_UNSET_VARIABLE"), std::string::npos);
  EXPECT_EQ(st.message().find("S3RVER"), std::string::npos);
}

TEST(S3Client, AServerThatIsNotThereIsRetriedThenRetry) {
  S3ClientOptions o;
  o.endpoint = "http://127.0.0.1:" + std::to_string(testing::S3rverProcess::FreePort());  // nothing listens there
  o.bucket = "b";
  o.access_key_env = "SLUICE_TEST_S3_KEY2";
  o.secret_key_env = "SLUICE_TEST_S3_KEY2";
  setenv("SLUICE_TEST_S3_KEY2", "k", 1);
  o.max_attempts = 3;
  FakeClock clock;
  o.clock = &clock;
  S3Client s3(o);
  const Status st = s3.GetObject("k").status();
  EXPECT_EQ(st.code(), StatusCode::kRetry) << st.ToString();
  EXPECT_NE(st.message().find("3 attempts"), std::string::npos);
  // Two backoffs, each at least half of 200 ms then 400 ms: waited on the clock, not slept.
  EXPECT_GE(clock.TotalSlept(), std::chrono::milliseconds(300));
}

}  // namespace
}  // namespace sluice
