#include "core/http_client.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdlib>
#include <sstream>

#include "core/http_pagination.h"
#include "core/http_test_server.h"

namespace sluice {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {}

  // Call after registering handlers.
  void Start() { ASSERT_TRUE(server_.Start()); }

  HttpClientOptions Options() {
    HttpClientOptions o;
    o.base_url = server_.base_url();
    o.clock = &clock_;
    o.initial_backoff = milliseconds(1000);
    o.max_backoff = milliseconds(60'000);
    o.timeout = milliseconds(2000);
    o.jitter_seed = 42;
    return o;
  }
  double SleptSeconds() const {
    return std::chrono::duration_cast<milliseconds>(clock_.TotalSlept()).count() / 1000.0;
  }
  int64_t NowUnix() const { return ToUnixSeconds(clock_.Now()); }

  FakeClock clock_;
  TestHttpServer server_;
  std::atomic<int> hits_{0};
};

TEST_F(HttpClientTest, FollowsLinkHeaderPagination) {
  server_.server().Get("/orgs/acme/repos", [this](const httplib::Request& req, httplib::Response& res) {
    ++hits_;
    std::string page = req.has_param("page") ? req.get_param_value("page") : "1";
    std::string base = server_.base_url() + "/orgs/acme/repos?per_page=2&page=";
    if (page == "1") {
      res.set_header("Link", "<" + base + "2>; rel=\"next\", <" + base + "3>; rel=\"last\"");
      res.set_content(R"([{"name":"a"},{"name":"b"}])", "application/json");
    } else if (page == "2") {
      res.set_header("Link", "<" + base + "1>; rel=\"prev\", <" + base + "3>; rel=\"next\", <" + base +
                                 "3>; rel=\"last\"");
      res.set_content(R"([{"name":"c"},{"name":"d"}])", "application/json");
    } else {
      res.set_header("Link", "<" + base + "2>; rel=\"prev\", <" + base + "1>; rel=\"first\"");
      res.set_content(R"([{"name":"e"}])", "application/json");
    }
  });
  Start();
  HttpClient client(Options());
  auto pages = FetchAllPages(client, "/orgs/acme/repos?per_page=2");
  ASSERT_TRUE(pages.ok()) << pages.status().ToString();
  ASSERT_EQ(pages->size(), 3u);
  EXPECT_EQ((*pages)[0].body, R"([{"name":"a"},{"name":"b"}])");
  EXPECT_EQ((*pages)[1].body, R"([{"name":"c"},{"name":"d"}])");
  EXPECT_EQ((*pages)[2].body, R"([{"name":"e"}])");
  EXPECT_EQ((*pages)[2].url, server_.base_url() + "/orgs/acme/repos?per_page=2&page=3");
  EXPECT_EQ(hits_, 3);
}

TEST_F(HttpClientTest, FollowsNextFieldPagination) {
  server_.server().Get("/v2/namespaces/vesoft/repositories", [this](const httplib::Request& req, httplib::Response& res) {
    std::string page = req.has_param("page") ? req.get_param_value("page") : "1";
    if (page == "1") {
      res.set_content(R"({"count":3,"next":")" + server_.base_url() +
                          R"(/v2/namespaces/vesoft/repositories?page=2","previous":null,"results":[{"name":"nebula"},{"name":"nebula-graphd"}]})",
                      "application/json");
    } else {
      res.set_content(R"({"count":3,"next":null,"previous":"x","results":[{"name":"nebula-storaged"}]})",
                      "application/json");
    }
  });
  Start();
  HttpClient client(Options());
  auto pages = FetchAllPages(client, "/v2/namespaces/vesoft/repositories",
                             PageOptions{Pagination::kNextField, "next", 10});
  ASSERT_TRUE(pages.ok()) << pages.status().ToString();
  ASSERT_EQ(pages->size(), 2u);
  EXPECT_NE((*pages)[1].body.find("nebula-storaged"), std::string::npos);
}

TEST_F(HttpClientTest, RetriesA502ThenSucceeds) {
  server_.server().Get("/flaky", [this](const httplib::Request&, httplib::Response& res) {
    if (++hits_ == 1) {
      res.status = 502;
      res.set_content("Bad Gateway", "text/plain");
    } else {
      res.set_content(R"({"ok":true})", "application/json");
    }
  });
  Start();
  HttpClient client(Options());
  auto r = client.Get("/flaky");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"ok":true})");
  EXPECT_EQ(r->attempts, 2);
  // One backoff of the initial 1s, jittered into [0.5s, 1s], on the fake clock.
  EXPECT_GE(SleptSeconds(), 0.5);
  EXPECT_LE(SleptSeconds(), 1.0);
}

TEST_F(HttpClientTest, RetriesATimeoutThenSucceeds) {
  server_.server().Get("/slow-once", [this](const httplib::Request&, httplib::Response& res) {
    if (++hits_ == 1) std::this_thread::sleep_for(milliseconds(800));
    res.set_content("done", "text/plain");
  });
  Start();
  HttpClientOptions o = Options();
  o.timeout = milliseconds(200);
  HttpClient client(o);
  auto r = client.Get("/slow-once");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "done");
  EXPECT_EQ(r->attempts, 2);
  EXPECT_EQ(hits_, 2);
}

TEST_F(HttpClientTest, GivesUpAfterMaxAttemptsWithExponentialBackoff) {
  server_.server().Get("/down", [this](const httplib::Request&, httplib::Response& res) {
    ++hits_;
    res.status = 503;
  });
  Start();
  HttpClientOptions o = Options();
  o.max_attempts = 4;
  HttpClient client(o);
  auto r = client.Get("/down");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsRetry());
  EXPECT_EQ(r.status().message(), "GET " + server_.base_url() + "/down: gave up after 4 attempts: HTTP 503");
  EXPECT_EQ(hits_, 4);
  // Waits of 1s, 2s, 4s, each jittered into [half, full].
  EXPECT_GE(SleptSeconds(), 3.5);
  EXPECT_LE(SleptSeconds(), 7.0);
}

TEST_F(HttpClientTest, ConnectionRefusedIsRetriedThenReported) {
  Start();
  const std::string url = server_.base_url() + "/x";
  server_.Stop();  // nothing listens on the port any more
  HttpClientOptions o = Options();
  o.max_attempts = 3;
  HttpClient client(o);
  auto r = client.Get(url);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsRetry());
  EXPECT_NE(r.status().message().find("gave up after 3 attempts"), std::string::npos) << r.status().message();
}

TEST_F(HttpClientTest, PrimaryRateLimitWaitsUntilReset) {
  int64_t reset = 0;
  server_.server().Get("/repos/acme/a", [&](const httplib::Request&, httplib::Response& res) {
    if (++hits_ == 1) {
      reset = NowUnix() + 120;
      res.status = 403;
      res.set_header("x-ratelimit-limit", "60");
      res.set_header("x-ratelimit-remaining", "0");
      res.set_header("x-ratelimit-reset", std::to_string(reset));
      res.set_content(R"({"message":"API rate limit exceeded for 127.0.0.1.","documentation_url":"https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"})",
                      "application/json");
    } else if (NowUnix() < reset) {
      res.status = 500;  // called before the reset: the test fails through the retry count
    } else {
      res.set_content(R"({"name":"a"})", "application/json");
    }
  });
  Start();
  HttpClient client(Options());
  auto start = std::chrono::steady_clock::now();
  auto r = client.Get("/repos/acme/a");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(hits_, 2);
  EXPECT_GE(SleptSeconds(), 120.0);
  EXPECT_LE(SleptSeconds(), 121.0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(5)) << "waits must use the fake clock";
}

TEST_F(HttpClientTest, SecondaryRateLimitHonoursRetryAfter) {
  server_.server().Get("/search", [this](const httplib::Request&, httplib::Response& res) {
    if (++hits_ == 1) {
      res.status = 403;
      res.set_header("retry-after", "30");
      res.set_content(R"({"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."})",
                      "application/json");
    } else {
      res.set_content("[]", "application/json");
    }
  });
  Start();
  HttpClient client(Options());
  auto r = client.Get("/search");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_DOUBLE_EQ(SleptSeconds(), 30.0);
}

TEST_F(HttpClientTest, SecondaryRateLimitWithoutRetryAfterBacksOffFromAMinute) {
  server_.server().Get("/search", [this](const httplib::Request&, httplib::Response& res) {
    if (++hits_ <= 2) {
      res.status = 403;
      res.set_content(R"({"message":"You have exceeded a secondary rate limit."})", "application/json");
    } else {
      res.set_content("[]", "application/json");
    }
  });
  Start();
  HttpClient client(Options());
  auto r = client.Get("/search");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_DOUBLE_EQ(SleptSeconds(), 60.0 + 120.0);
  EXPECT_EQ(r->attempts, 3);
}

TEST_F(HttpClientTest, RateLimitGivesUpAfterTheBound) {
  server_.server().Get("/busy", [this](const httplib::Request&, httplib::Response& res) {
    ++hits_;
    res.status = 429;
    res.set_header("retry-after", "10");
  });
  Start();
  HttpClientOptions o = Options();
  o.max_rate_limit_waits = 3;
  HttpClient client(o);
  auto r = client.Get("/busy");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsRetry());
  EXPECT_EQ(r.status().message(), "GET " + server_.base_url() +
                                       "/busy: gave up after 3 rate-limit waits: HTTP 429 secondary rate limit "
                                       "(retry-after)");
  EXPECT_EQ(hits_, 4);
  EXPECT_DOUBLE_EQ(SleptSeconds(), 30.0);
}

TEST_F(HttpClientTest, RateLimitResetBeyondMaxWaitFailsWithoutWaiting) {
  server_.server().Get("/limited", [this](const httplib::Request&, httplib::Response& res) {
    res.status = 429;
    res.set_header("x-ratelimit-remaining", "0");
    res.set_header("x-ratelimit-reset", std::to_string(NowUnix() + 7200));
  });
  Start();
  HttpClientOptions o = Options();
  o.max_wait = seconds(3600);
  HttpClient client(o);
  auto r = client.Get("/limited");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsRetry());
  EXPECT_NE(r.status().message().find("primary rate limit asks to wait 7201"), std::string::npos)
      << r.status().message();
  EXPECT_EQ(SleptSeconds(), 0.0);
}

TEST_F(HttpClientTest, DockerHubXRetryAfterIsAUnixTime) {
  server_.server().Get("/v2/namespaces/vesoft/repositories", [this](const httplib::Request&, httplib::Response& res) {
    if (++hits_ == 1) {
      res.status = 429;
      res.set_header("X-Retry-After", std::to_string(NowUnix() + 45));
      res.set_content("Too Many Requests", "text/plain");
    } else {
      res.set_content(R"({"count":0,"next":null,"results":[]})", "application/json");
    }
  });
  Start();
  HttpClient client(Options());
  auto r = client.Get("/v2/namespaces/vesoft/repositories");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_DOUBLE_EQ(SleptSeconds(), 45.0);
}

TEST_F(HttpClientTest, PlainForbiddenIsAResponseNotARetry) {
  server_.server().Get("/repos/acme/a/traffic/views", [this](const httplib::Request&, httplib::Response& res) {
    ++hits_;
    res.status = 403;
    res.set_header("x-ratelimit-remaining", "4999");
    res.set_content(R"({"message":"Must have push access to repository","status":"403"})", "application/json");
  });
  Start();
  HttpClient client(Options());
  auto r = client.Get("/repos/acme/a/traffic/views");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 403);
  EXPECT_FALSE(r->ok());
  EXPECT_EQ(hits_, 1);
  EXPECT_EQ(SleptSeconds(), 0.0);
  EXPECT_TRUE(HttpError(*r).IsInvalid());
  EXPECT_NE(HttpError(*r).message().find("Must have push access"), std::string::npos);
}

TEST_F(HttpClientTest, ETagMakesTheSecondRequestConditionalAndA304ReusesTheBody) {
  std::vector<std::string> if_none_match;
  server_.server().Get("/repos/acme/a", [&](const httplib::Request& req, httplib::Response& res) {
    if_none_match.push_back(req.get_header_value("If-None-Match"));
    if (req.get_header_value("If-None-Match") == "W/\"abc123\"") {
      res.status = 304;
      return;
    }
    res.set_header("ETag", "W/\"abc123\"");
    res.set_content(R"({"name":"a","stargazers_count":10})", "application/json");
  });
  Start();
  HttpClient client(Options());
  auto first = client.Get("/repos/acme/a");
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->from_cache);
  auto second = client.Get("/repos/acme/a");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->status, 304);
  EXPECT_TRUE(second->from_cache);
  EXPECT_TRUE(second->ok());
  EXPECT_EQ(second->body, R"({"name":"a","stargazers_count":10})");
  EXPECT_EQ(if_none_match, (std::vector<std::string>{"", "W/\"abc123\""}));
}

// A 304 need not repeat Link: paging through cached pages must still reach the last page.
TEST_F(HttpClientTest, PaginationContinuesThroughA304ThatOmitsTheLinkHeader) {
  int not_modified = 0;
  server_.server().Get("/items", [&](const httplib::Request& req, httplib::Response& res) {
    const std::string page = req.has_param("page") ? req.get_param_value("page") : "1";
    const std::string etag = "\"p" + page + "\"";
    if (req.get_header_value("If-None-Match") == etag) {
      ++not_modified;
      res.status = 304;
      return;
    }
    res.set_header("ETag", etag);
    if (page == "1") res.set_header("Link", "<" + server_.base_url() + "/items?page=2>; rel=\"next\"");
    res.set_content("[" + page + "]", "application/json");
  });
  Start();
  HttpClient client(Options());
  for (int run = 0; run < 2; ++run) {
    auto pages = FetchAllPages(client, "/items");
    ASSERT_TRUE(pages.ok()) << pages.status().ToString();
    ASSERT_EQ(pages->size(), 2u) << "run " << run;
    EXPECT_EQ((*pages)[1].body, "[2]");
    EXPECT_EQ((*pages)[0].from_cache, run == 1);
    EXPECT_EQ((*pages)[0].Header("content-type"), "application/json");
  }
  EXPECT_EQ(not_modified, 2);
}

TEST_F(HttpClientTest, TokenFromEnvironmentIsSentButNeverLogged) {
  std::string auth_seen;
  server_.server().Get("/user", [&](const httplib::Request& req, httplib::Response& res) {
    auth_seen = req.get_header_value("Authorization");
    if (++hits_ == 1) {
      res.status = 502;  // force a retry so the warning path logs too
      return;
    }
    res.set_content("{}", "application/json");
  });
  Start();
  ::setenv("SLUICE_TEST_GH_TOKEN", "ghp_SECRETsecret123", 1);
  auto out = std::make_shared<std::ostringstream>();
  auto previous = spdlog::default_logger();
  auto capture = std::make_shared<spdlog::logger>("capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(*out));
  capture->set_level(spdlog::level::trace);
  spdlog::set_default_logger(capture);

  HttpClientOptions o = Options();
  o.token_env = "SLUICE_TEST_GH_TOKEN";
  HttpClient client(o);
  auto r = client.Get("/user?access_token=ghp_SECRETsecret123&x=1");
  spdlog::set_default_logger(previous);
  ::unsetenv("SLUICE_TEST_GH_TOKEN");

  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(auth_seen, "Bearer ghp_SECRETsecret123");
  const std::string log = out->str();
  EXPECT_NE(log.find("Authorization: <redacted>"), std::string::npos) << log;
  EXPECT_NE(log.find("access_token=<redacted>&x=1"), std::string::npos) << log;
  EXPECT_EQ(log.find("SECRET"), std::string::npos) << log;
}

TEST_F(HttpClientTest, UnsetTokenVariableSendsNoAuthorization) {
  std::string auth_seen = "unset";
  server_.server().Get("/user", [&](const httplib::Request& req, httplib::Response& res) {
    auth_seen = req.get_header_value("Authorization");
    res.set_content("{}", "application/json");
  });
  Start();
  HttpClientOptions o = Options();
  o.token_env = "SLUICE_TEST_NO_SUCH_TOKEN";
  HttpClient client(o);
  ASSERT_TRUE(client.Get("/user").ok());
  EXPECT_EQ(auth_seen, "");
}

TEST_F(HttpClientTest, PostsABodyWithHeaders) {
  std::string body_seen, type_seen;
  server_.server().Post("/graphql", [&](const httplib::Request& req, httplib::Response& res) {
    body_seen = req.body;
    type_seen = req.get_header_value("Content-Type");
    res.set_content(R"({"data":{}})", "application/json");
  });
  Start();
  HttpClient client(Options());
  auto r = client.Post("/graphql", R"({"query":"{ viewer { login } }"})", {{"Content-Type", "application/json"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, R"({"data":{}})");
  EXPECT_EQ(body_seen, R"({"query":"{ viewer { login } }"})");
  EXPECT_EQ(type_seen, "application/json");
}

TEST(HttpClientUnitTest, ResolvesAgainstTheBaseUrl) {
  HttpClientOptions o;
  o.base_url = "https://ghe.example.com/api/v3/";
  HttpClient client(o);
  EXPECT_EQ(client.Resolve("/orgs/x/repos"), "https://ghe.example.com/api/v3/orgs/x/repos");
  EXPECT_EQ(client.Resolve("orgs/x"), "https://ghe.example.com/api/v3/orgs/x");
  EXPECT_EQ(client.Resolve("https://api.github.com/x"), "https://api.github.com/x");
  HttpClient no_base(HttpClientOptions{});
  auto r = no_base.Get("/orgs/x");
  EXPECT_TRUE(r.status().IsInvalid());
}

TEST(HttpClientUnitTest, LinkAndNextFieldParsing) {
  HttpResponse r;
  r.headers = {{"link", "<https://api.github.com/x?page=3>; rel=\"last\", <https://api.github.com/x?page=2>; rel=\"next\""}};
  EXPECT_EQ(NextLinkUrl(r), "https://api.github.com/x?page=2");
  r.headers = {{"link", "<https://api.github.com/x?page=1>; rel=\"prev\""}};
  EXPECT_EQ(NextLinkUrl(r), std::nullopt);
  EXPECT_EQ(NextFieldUrl(R"({"next":"http://h/p2"})"), "http://h/p2");
  EXPECT_EQ(NextFieldUrl(R"({"next":null})"), std::nullopt);
  EXPECT_EQ(NextFieldUrl(R"({"links":{"next":"http://h/p3"}})", "links.next"), "http://h/p3");
  EXPECT_EQ(NextFieldUrl("not json"), std::nullopt);
}

TEST(HttpClientUnitTest, RedactsSecretsForLogs) {
  EXPECT_EQ(RedactHeaders({{"Authorization", "Bearer x"}, {"Accept", "application/json"}, {"X-Api-Token", "t"}}),
            "Authorization: <redacted>, Accept: application/json, X-Api-Token: <redacted>");
  EXPECT_EQ(RedactUrl("https://h/p?key=abc&page=2&token=t"), "https://h/p?key=<redacted>&page=2&token=<redacted>");
  EXPECT_EQ(RedactUrl("https://h/p"), "https://h/p");
}

}  // namespace
}  // namespace sluice
