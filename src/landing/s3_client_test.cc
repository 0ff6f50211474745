// S3Client against a real S3 server on loopback: s3rver 3.7.1 (tests/s3rver, installed by scripts/setup),
// started per test suite on a free port with a temporary directory and stopped by its PID. s3rver does not
// verify SigV4 signatures (sigv4_test.cc checks the signer against AWS's vectors); it does require a known
// access key id, S3RVER.
#include "landing/s3_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>
#include <thread>

namespace sluice {
namespace {

namespace fs = std::filesystem;

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

bool Accepts(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

class S3rverTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const fs::path script = fs::path(SLUICE_SOURCE_DIR) / "tests/s3rver/node_modules/s3rver/bin/s3rver.js";
    ASSERT_TRUE(fs::exists(script)) << script << " is missing: scripts/setup installs it (npm ci in tests/s3rver)";
    dir_ = new fs::path(fs::temp_directory_path() / ("sluice-s3rver-" + std::to_string(getpid())));
    fs::create_directories(*dir_);
    port_ = FreePort();
    pid_ = fork();
    if (pid_ == 0) {
      const std::string port = std::to_string(port_);
      // s3rver encrypts ListObjectsV2 continuation tokens with DES, which Node 17+ (OpenSSL 3) only offers
      // through the legacy provider: without it every truncated listing is a 500.
      execlp("node", "node", "--openssl-legacy-provider", script.c_str(), "--directory", dir_->c_str(), "--address",
             "127.0.0.1", "--port", port.c_str(), "--silent", "--configure-bucket", "landing",
             static_cast<char*>(nullptr));
      _exit(127);
    }
    ASSERT_GT(pid_, 0);
    for (int i = 0; i < 200 && !Accepts(port_); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_TRUE(Accepts(port_)) << "s3rver did not start on port " << port_;
    setenv("SLUICE_TEST_S3_KEY", "S3RVER", 1);
    setenv("SLUICE_TEST_S3_SECRET", "S3RVER", 1);
  }

  static void TearDownTestSuite() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
    if (dir_) {
      std::error_code ec;
      fs::remove_all(*dir_, ec);
      delete dir_;
      dir_ = nullptr;
    }
  }

  static S3ClientOptions Options(const std::string& bucket = "landing") {
    S3ClientOptions o;
    o.endpoint = "http://127.0.0.1:" + std::to_string(port_);
    o.bucket = bucket;
    o.access_key_env = "SLUICE_TEST_S3_KEY";
    o.secret_key_env = "SLUICE_TEST_S3_SECRET";
    o.max_attempts = 2;
    o.initial_backoff = std::chrono::milliseconds(10);
    return o;
  }

  static inline pid_t pid_ = -1;
  static inline int port_ = 0;
  static inline fs::path* dir_ = nullptr;
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
  EXPECT_EQ(last.url, "http://127.0.0.1:" + std::to_string(port_) + "/landing/auth/k");
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
  o.endpoint = "http://127.0.0.1:" + std::to_string(FreePort());  // nothing listens there
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
