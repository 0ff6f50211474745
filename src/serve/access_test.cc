#include "serve/access.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(AccessTest, ConstantTimeEqualsComparesWholeStrings) {
  EXPECT_TRUE(ConstantTimeEquals("Bearer s3cret", "Bearer s3cret"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_FALSE(ConstantTimeEquals("Bearer s3cret", "Bearer s3creT"));
  EXPECT_FALSE(ConstantTimeEquals("Bearer s3cret", "Bearer s3cret "));  // a prefix is not a match
  EXPECT_FALSE(ConstantTimeEquals("Bearer s3cret", "Bearer s3cre"));
  EXPECT_FALSE(ConstantTimeEquals("", "x"));
  // Trailing NULs are not padding: a shorter string never equals a longer one.
  EXPECT_FALSE(ConstantTimeEquals(std::string_view("ab\0", 3), "ab"));
}

TEST(AccessTest, LoopbackHostHeaders) {
  for (const char* h :
       {"localhost", "LOCALHOST:8080", "127.0.0.1", "127.0.0.1:8080", "127.1.2.3:1", "[::1]", "[::1]:8080"})
    EXPECT_TRUE(IsLoopbackHostHeader(h)) << h;
  for (const char* h :
       {"", "evil.example", "evil.example:8080", "localhost.evil.example", "127.0.0.1.evil.example", "10.0.0.1:8080",
        "0.0.0.0:8080", "[::]:8080", "::1", "[::1", "localhost:", "localhost:80x", "localhost:8080:1", "128.0.0.1"})
    EXPECT_FALSE(IsLoopbackHostHeader(h)) << h;
}

TEST(AccessTest, SameOriginIsSameHostAndPort) {
  EXPECT_TRUE(IsSameOrigin("http://127.0.0.1:8080", "127.0.0.1:8080"));
  EXPECT_TRUE(IsSameOrigin("http://LocalHost:8080", "localhost:8080"));
  EXPECT_TRUE(IsSameOrigin("http://localhost", "localhost:80"));
  EXPECT_TRUE(IsSameOrigin("http://[::1]:8080", "[::1]:8080"));
  EXPECT_FALSE(IsSameOrigin("http://evil.example", "127.0.0.1:8080"));
  EXPECT_FALSE(IsSameOrigin("http://localhost:3000", "localhost:8080")) << "another local app is another origin";
  EXPECT_FALSE(IsSameOrigin("http://127.0.0.1:8080", "localhost:8080"));
  EXPECT_FALSE(IsSameOrigin("https://localhost", "localhost:80"));
  EXPECT_FALSE(IsSameOrigin("null", "127.0.0.1:8080"));
  EXPECT_FALSE(IsSameOrigin("http://127.0.0.1:8080.evil.example", "127.0.0.1:8080"));
}

AccessRequest Request(std::string method, std::string host, std::string origin = "") {
  return {std::move(method), "/ingest/tracking", std::move(host), std::move(origin), "", ""};
}

TEST(AccessTest, WithoutATokenOnlyLoopbackHostsAndSameOriginWrites) {
  AccessPolicy open{"", nullptr};
  EXPECT_FALSE(CheckAccess(open, Request("POST", "127.0.0.1:8080")));
  EXPECT_FALSE(CheckAccess(open, Request("POST", "127.0.0.1:8080", "http://127.0.0.1:8080")));
  EXPECT_FALSE(CheckAccess(open, Request("GET", "localhost:8080", "http://evil.example")))
      << "a read's answer is kept from other origins by the browser";

  auto rebinding = CheckAccess(open, Request("GET", "evil.example:8080"));
  ASSERT_TRUE(rebinding);
  EXPECT_EQ(rebinding->code, 403);
  EXPECT_NE(rebinding->message.find("not a loopback name"), std::string::npos) << rebinding->message;
  EXPECT_TRUE(CheckAccess(open, Request("GET", "")));

  auto csrf = CheckAccess(open, Request("POST", "127.0.0.1:8080", "http://evil.example"));
  ASSERT_TRUE(csrf);
  EXPECT_EQ(csrf->code, 403);
  EXPECT_NE(csrf->message.find("cross-site"), std::string::npos) << csrf->message;

  AccessRequest fetch = Request("POST", "127.0.0.1:8080");
  fetch.sec_fetch_site = "cross-site";
  EXPECT_TRUE(CheckAccess(open, fetch));
  fetch.sec_fetch_site = "same-origin";
  EXPECT_FALSE(CheckAccess(open, fetch));
}

TEST(AccessTest, WithATokenTheTokenDecidesFromAnywhere) {
  AccessPolicy closed{"s3cret", [](const std::string& p) { return p == "/healthz"; }};
  AccessRequest r = Request("POST", "evil.example", "http://evil.example");
  r.authorization = "Bearer s3cret";
  EXPECT_FALSE(CheckAccess(closed, r));
  r.authorization = "Bearer wrong";
  auto wrong = CheckAccess(closed, r);
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->code, 401);
  r.authorization = "";
  EXPECT_EQ(CheckAccess(closed, r)->code, 401);
  r.path = "/healthz";
  EXPECT_FALSE(CheckAccess(closed, r)) << "public paths need no token";
}

}  // namespace
}  // namespace sluice
