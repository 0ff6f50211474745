#include "serve/exposure.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace sluice {
namespace {

TEST(ExposureTest, LoopbackListenHosts) {
  for (const char* h : {"127.0.0.1", "127.9.8.7", "localhost", "LocalHost", "::1", "[::1]", "::ffff:127.0.0.1"})
    EXPECT_TRUE(IsLoopbackListenHost(h)) << h;
  for (const char* h :
       {"", "0.0.0.0", "::", "[::]", "10.1.2.3", "192.168.0.1", "myhost", "localhost.example", "::ffff:10.0.0.1"})
    EXPECT_FALSE(IsLoopbackListenHost(h)) << h;
}

TEST(ExposureTest, ParsesListenAddresses) {
  auto a = ParseListen("0.0.0.0:8080");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "0.0.0.0");
  EXPECT_EQ(a->port, 8080);
  auto v6 = ParseListen("[::1]:9000");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  auto bare = ParseListen("8081");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->host, "127.0.0.1");
  EXPECT_FALSE(ParseListen("127.0.0.1:http").ok());
  EXPECT_FALSE(ParseListen("127.0.0.1:70000").ok());
}

class ResolveServerTokenTest : public ::testing::Test {
 protected:
  void TearDown() override { ::unsetenv("SLUICE_EXPOSURE_TEST_TOKEN"); }
  Config config_;
};

TEST_F(ResolveServerTokenTest, NoTokenServesOnlyLoopback) {
  auto loopback = ResolveServerToken(config_, "127.0.0.1:8080");
  ASSERT_TRUE(loopback.ok());
  EXPECT_EQ(*loopback, "");
  for (const char* listen : {"0.0.0.0:8080", ":8080", "10.0.0.5:8080", "[::]:8080"}) {
    auto r = ResolveServerToken(config_, listen);
    ASSERT_FALSE(r.ok()) << listen;
    EXPECT_NE(r.status().message().find("without a token"), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find("server.token_env"), std::string::npos);
  }
}

TEST_F(ResolveServerTokenTest, ATokenEnvMustNameASetNonEmptyVariable) {
  config_.token_env = "SLUICE_EXPOSURE_TEST_TOKEN";
  auto unset = ResolveServerToken(config_, "127.0.0.1:8080");
  ASSERT_FALSE(unset.ok()) << "an unset variable is not 'no auth'";
  EXPECT_NE(unset.status().message().find("server.token_env names the environment variable "
                                          "SLUICE_EXPOSURE_TEST_TOKEN, which is unset"),
            std::string::npos)
      << unset.status().message();
  ::setenv("SLUICE_EXPOSURE_TEST_TOKEN", "", 1);
  auto empty = ResolveServerToken(config_, "0.0.0.0:8080");
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("which is empty"), std::string::npos) << empty.status().message();
  ::setenv("SLUICE_EXPOSURE_TEST_TOKEN", "s3cret", 1);
  auto set = ResolveServerToken(config_, "0.0.0.0:8080");
  ASSERT_TRUE(set.ok()) << set.status().message();
  EXPECT_EQ(*set, "s3cret");
}

}  // namespace
}  // namespace sluice
