// `sluice run` exposure end to end: no token means loopback only (a 0.0.0.0 listen or a token_env naming an
// unset/empty variable stops it at start), foreign Host headers and cross-site writes are refused and load
// nothing, a token is checked from anywhere; POST /ingest takes what real clients send (curl's default form
// type, Python's, gzip and zstd bodies) and refuses a decompression bomb with 413; /metrics counts requests
// by route and code and times them. Traffic only ever goes to 127.0.0.1.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

namespace sluice::e2e {
namespace {

constexpr char kLine[] = R"({"ts":"2026-11-01T10:00:00Z","ad_id":1,"event":"start"})"
                         "\n";

struct Reply {
  int code = 0;
  std::string body;
};

// One request to 127.0.0.1:port with exactly the given headers (a Host header among them replaces the
// client's own).
Reply Send(int port, const std::string& method, const std::string& path, const httplib::Headers& headers,
           const std::string& body = "", const std::string& content_type = "application/x-ndjson") {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(60, 0);
  httplib::Result r = method == "GET" ? c.Get(path, headers) : c.Post(path, headers, body, content_type);
  if (!r) return {};
  return {r->status, r->body};
}

// Writes `first`, waits, writes `second` on the same connection, and returns everything the server sent
// until it went quiet for a second.
std::string SendInTwoParts(int port, const std::string& first, const std::string& second) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return "";
  }
  timeval tv{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  (void)::send(fd, first.data(), first.size(), MSG_NOSIGNAL);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  (void)::send(fd, second.data(), second.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

// Runs a shell command; its exit code and stdout.
std::pair<int, std::string> Shell(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return {-1, ""};
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string Lines(int n) {
  std::string s;
  for (int i = 0; i < n; ++i)
    s += R"({"ts":"2026-11-01T10:00:00Z","ad_id":)" + std::to_string(i) + R"(,"event":"start"})" + "\n";
  return s;
}

class HttpExposureTest : public ScratchDir {
 protected:
  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      WaitFor(pid_);
    }
    ::unsetenv("SLUICE_E2E_TOKEN");
    ScratchDir::TearDown();
  }

  // A config with one http stream; `server` is the server: mapping.
  std::string Config(const std::string& server, const std::string& max_body = "1MiB") {
    return Write("sluice.yaml", "warehouse: { path: wh.duckdb }\nlanding: { path: landing }\nserver: " + server +
                                    R"(
streams:
  tracking:
    event_time: ts
    schema: { ts: timestamp, ad_id: int64, event: string }
    sources:
      - { kind: http, max_body: )" + max_body +
                                    R"( }
    batch: { max_wait: 100ms }
)");
  }

  // Starts `sluice run` on a loopback port without a token; returns the config.
  std::string StartLoopback() {
    port_ = FreePort();
    std::string config = Config("{ listen: 127.0.0.1:" + std::to_string(port_) + " }");
    pid_ = StartSluice({"run", "-c", config, "--quiet"}, Path("run.log"));
    EXPECT_TRUE(WaitHealthy(port_, 20)) << "sluice run did not come up";
    return config;
  }

  std::string Url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }

  int port_ = 0;
  pid_t pid_ = -1;
};

TEST_F(HttpExposureTest, WithoutATokenItRefusesToListenBeyondLoopback) {
  int port = FreePort();
  std::string config = Config("{ listen: 0.0.0.0:" + std::to_string(port) + " }");
  CommandResult r = RunSluice({"run", "-c", config, "--quiet"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("refusing to serve on 0.0.0.0:" + std::to_string(port) + " without a token"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("set server.token_env"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(Path("wh.duckdb"))) << "refused before opening anything";

  // --listen is held to the same rule as server.listen.
  std::string loopback = Config("{ listen: 127.0.0.1:" + std::to_string(port) + " }");
  CommandResult flag = RunSluice({"run", "-c", loopback, "--listen", "0.0.0.0:" + std::to_string(port), "--quiet"});
  EXPECT_EQ(flag.exit_code, 1);
  EXPECT_NE(flag.output.find("without a token"), std::string::npos) << flag.output;
  EXPECT_EQ(HttpGet(port, "/healthz").first, 0) << "nothing is listening";
}

TEST_F(HttpExposureTest, ATokenEnvNamingAnUnsetOrEmptyVariableStopsItAtStart) {
  int port = FreePort();
  std::string config = Config("{ listen: 127.0.0.1:" + std::to_string(port) + ", token_env: SLUICE_E2E_TOKEN }");
  ::unsetenv("SLUICE_E2E_TOKEN");
  CommandResult unset = RunSluice({"run", "-c", config, "--quiet"});
  EXPECT_EQ(unset.exit_code, 1);
  EXPECT_NE(unset.output.find("server.token_env names the environment variable SLUICE_E2E_TOKEN, which is unset"),
            std::string::npos)
      << unset.output;
  ::setenv("SLUICE_E2E_TOKEN", "", 1);
  CommandResult empty = RunSluice({"run", "-c", config, "--quiet"});
  EXPECT_EQ(empty.exit_code, 1);
  EXPECT_NE(empty.output.find("SLUICE_E2E_TOKEN, which is empty"), std::string::npos) << empty.output;
  EXPECT_EQ(HttpGet(port, "/healthz").first, 0) << "nothing is listening";
}

TEST_F(HttpExposureTest, WithATokenItServesOnAnyAddressAndOnlyTheTokenDecides) {
  ::setenv("SLUICE_E2E_TOKEN", "e2e-s3cret", 1);
  port_ = FreePort();
  Config("{ listen: 0.0.0.0:" + std::to_string(port_) + ", token_env: SLUICE_E2E_TOKEN }");
  pid_ = StartSluice({"run", "-c", Path("sluice.yaml"), "--quiet"}, Path("run.log"));
  ASSERT_TRUE(WaitHealthy(port_, 20)) << "sluice run with a token on 0.0.0.0 did not come up";

  Reply none = Send(port_, "POST", "/ingest/tracking", {}, kLine);
  EXPECT_EQ(none.code, 401) << none.body;
  EXPECT_NE(none.body.find("\"error\":\"missing or wrong bearer token\""), std::string::npos) << none.body;
  EXPECT_EQ(Send(port_, "POST", "/ingest/tracking", {{"Authorization", "Bearer e2e-s3cre"}}, kLine).code, 401);
  EXPECT_EQ(Send(port_, "POST", "/ingest/tracking", {{"Authorization", "Bearer e2e-s3cret2"}}, kLine).code, 401);
  EXPECT_EQ(Send(port_, "GET", "/api/query?sql=SELECT%201", {}).code, 401);

  // A valid token is served whatever the Host and Origin say.
  httplib::Headers auth{
      {"Authorization", "Bearer e2e-s3cret"}, {"Host", "sluice.example:8080"}, {"Origin", "http://elsewhere.example"}};
  Reply ok = Send(port_, "POST", "/ingest/tracking", auth, std::string(kLine) + kLine);
  EXPECT_EQ(ok.code, 200) << ok.body;
  EXPECT_NE(ok.body.find("\"loaded\":2,"), std::string::npos) << ok.body;
  Reply count = Send(port_, "GET", "/api/query?format=csv&sql=SELECT%20count(*)%20AS%20n%20FROM%20raw_tracking", auth);
  EXPECT_EQ(count.code, 200) << count.body;
  EXPECT_EQ(count.body, "n\r\n2\r\n") << "only the authorised request loaded";
}

TEST_F(HttpExposureTest, OnLoopbackWithoutATokenForeignHostsAndCrossSiteWritesLoadNothing) {
  std::string config = StartLoopback();
  std::string self = "127.0.0.1:" + std::to_string(port_);

  // DNS rebinding: a page on evil.example whose name now points at 127.0.0.1 still says so in Host.
  Reply rebound = Send(port_, "POST", "/ingest/tracking", {{"Host", "evil.example:" + std::to_string(port_)}}, kLine);
  EXPECT_EQ(rebound.code, 403) << rebound.body;
  EXPECT_NE(rebound.body.find("is not a loopback name"), std::string::npos) << rebound.body;
  EXPECT_EQ(Send(port_, "GET", "/api/query?sql=SELECT%201", {{"Host", "evil.example"}}).code, 403)
      << "reads are refused to foreign hosts too";

  // CSRF: a form or fetch from another site with a "simple" content type, needing no preflight.
  Reply csrf = Send(port_, "POST", "/ingest/tracking", {{"Origin", "http://evil.example"}}, kLine, "text/plain");
  EXPECT_EQ(csrf.code, 403) << csrf.body;
  EXPECT_NE(csrf.body.find("\"error\":\"cross-site request refused"), std::string::npos) << csrf.body;
  // Its body may hold a whole second request, same-origin in look; arriving after the refusal was answered,
  // it must still be read as the refused request's body, not served as the next request on the connection.
  std::string inner = "POST /ingest/tracking HTTP/1.1\r\nHost: " + self +
                      "\r\nContent-Type: application/x-ndjson\r\nContent-Length: " + std::to_string(sizeof kLine - 1) +
                      "\r\n\r\n" + kLine;
  std::string outer =
      "POST /ingest/tracking HTTP/1.1\r\nHost: " + self +
      "\r\nOrigin: http://evil.example\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(inner.size()) +
      "\r\n\r\n";
  std::string answers = SendInTwoParts(port_, outer, inner);
  EXPECT_NE(answers.find("403 Forbidden"), std::string::npos) << answers;
  EXPECT_EQ(answers.find("200 OK"), std::string::npos) << answers;
  Reply sibling = Send(port_, "POST", "/ingest/tracking", {{"Origin", "http://127.0.0.1:1"}}, kLine, "text/plain");
  EXPECT_EQ(sibling.code, 403) << "another local port is another origin";
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM raw_tracking"), "0") << "nothing refused was loaded";

  // The dashboard page's own requests: same origin.
  Reply same = Send(port_, "POST", "/ingest/tracking", {{"Origin", "http://" + self}}, kLine, "text/plain");
  EXPECT_EQ(same.code, 200) << same.body;
  Reply local = Send(port_, "POST", "/ingest/tracking", {{"Host", "localhost:" + std::to_string(port_)}}, kLine);
  EXPECT_EQ(local.code, 200) << local.body;
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM raw_tracking"), "2");
}

TEST_F(HttpExposureTest, IngestTakesWhatClientsSendAndRefusesBombs) {
  std::string config = StartLoopback();
  Write("events.ndjson", Lines(3000));  // ~150 KB
  // The real curl, with its default headers (Content-Type: application/x-www-form-urlencoded).
  auto curl = Shell("curl -sS -o " + Path("curl.out") + " -w '%{http_code}' --data-binary @" + Path("events.ndjson") +
                    " " + Url("/ingest/tracking"));
  EXPECT_EQ(curl.second, "200") << Shell("cat " + Path("curl.out")).second;
  EXPECT_NE(Shell("cat " + Path("curl.out")).second.find("\"loaded\":3000,\"dead_lettered\":0"), std::string::npos);
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM raw_tracking"), "3000");

  // Python's urllib sends the same form type; httplib alone would cap such a body at 8 KB.
  std::string sixty = Lines(1200);
  ASSERT_GT(sixty.size(), 60'000u);
  Reply form = Send(port_, "POST", "/ingest/tracking", {}, sixty, "application/x-www-form-urlencoded");
  EXPECT_EQ(form.code, 200) << form.body;
  EXPECT_NE(form.body.find("\"loaded\":1200,"), std::string::npos) << form.body;

  // gzip and zstd bodies, made by the command-line tools.
  ASSERT_EQ(Shell("gzip -c " + Path("events.ndjson") + " > " + Path("events.ndjson.gz")).first, 0);
  ASSERT_EQ(Shell("zstd -q -c " + Path("events.ndjson") + " > " + Path("events.ndjson.zst")).first, 0);
  for (const char* encoding : {"gzip", "zstd"}) {
    std::string file = Path(std::string("events.ndjson.") + (encoding == std::string("gzip") ? "gz" : "zst"));
    auto r = Shell("curl -sS -o " + Path("enc.out") + " -w '%{http_code}' -H 'Content-Encoding: " + encoding +
                   "' --data-binary @" + file + " " + Url("/ingest/tracking"));
    EXPECT_EQ(r.second, "200") << encoding << ": " << Shell("cat " + Path("enc.out")).second;
  }
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM raw_tracking"), "10200");  // 3000 + 1200 + 2 x 3000

  // A bomb: ~100 KB of gzip that inflates to 200 MB, against a 1 MiB max_body.
  ASSERT_EQ(Shell("head -c 200000000 /dev/zero | gzip -c > " + Path("bomb.gz")).first, 0);
  ASSERT_LT(std::filesystem::file_size(Path("bomb.gz")), 1u << 20) << "the bomb itself is under the limit";
  auto bomb =
      Shell("curl -sS -o " + Path("bomb.out") + " -w '%{http_code}' -H 'Content-Encoding: gzip' --data-binary @" +
            Path("bomb.gz") + " " + Url("/ingest/tracking"));
  EXPECT_EQ(bomb.second, "413");
  EXPECT_NE(Shell("cat " + Path("bomb.out")).second.find("decoded body is over the limit of 1048576 bytes"),
            std::string::npos)
      << Shell("cat " + Path("bomb.out")).second;
  // Other routes take no encoded body: httplib would inflate it without a bound.
  auto query_bomb = Shell("curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Encoding: gzip' --data-binary @" +
                          Path("bomb.gz") + " " + Url("/api/query"));
  EXPECT_EQ(query_bomb.second, "415");
  // A plain body past the limit: refused before it is sent (curl asks with Expect: 100-continue past 1 MB).
  Write("big.ndjson", Lines(40000));  // ~2 MB
  auto big = Shell("curl -sS -o " + Path("big.out") + " -w '%{http_code}' --data-binary @" + Path("big.ndjson") + " " +
                   Url("/ingest/tracking"));
  EXPECT_EQ(big.second, "413");
  EXPECT_NE(Shell("cat " + Path("big.out")).second.find("over the server's limit of 1048576 bytes"), std::string::npos)
      << Shell("cat " + Path("big.out")).second;
  Reply br = Send(port_, "POST", "/ingest/tracking", {{"Content-Encoding", "br"}}, kLine);
  EXPECT_EQ(br.code, 415) << br.body;
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM raw_tracking"), "10200") << "nothing refused was loaded";
  EXPECT_EQ(::kill(pid_, 0), 0) << "still running";
}

TEST_F(HttpExposureTest, MetricsCountRequestsByRouteAndCodeAndTimeThem) {
  StartLoopback();
  EXPECT_EQ(HttpPost(port_, "/ingest/tracking", kLine).first, 200);
  EXPECT_EQ(HttpPost(port_, "/ingest/tracking", kLine).first, 200);
  EXPECT_EQ(Send(port_, "POST", "/ingest/tracking", {{"Host", "evil.example"}}, kLine).code, 403);
  EXPECT_EQ(HttpGet(port_, "/api/query?sql=SELECT%201").first, 200);
  EXPECT_EQ(HttpGet(port_, "/no/such/page").first, 404);
  // A request is counted by httplib's logger hook, which runs just after its answer is sent, on the thread that
  // served it: the client can be faster than that, and the threads finish in any order, so /metrics is read
  // until every expected line shows (two seconds at most).
  const std::vector<std::string> expected_lines = {
      "# TYPE sluice_http_requests_total counter\n",
      "sluice_http_requests_total{route=\"/ingest/<stream>\",code=\"200\"} 2\n",
      "sluice_http_requests_total{route=\"/ingest/<stream>\",code=\"403\"} 1\n",
      "sluice_http_requests_total{route=\"/api/query\",code=\"200\"} 1\n",
      "sluice_http_requests_total{route=\"other\",code=\"404\"} 1\n",
      "# TYPE sluice_http_request_seconds histogram\n",
      "sluice_http_request_seconds_bucket{route=\"/ingest/<stream>\",le=\"+Inf\"} 3\n",
      "sluice_http_request_seconds_count{route=\"/ingest/<stream>\"} 3\n",
      "sluice_http_request_seconds_sum{route=\"/ingest/<stream>\"} ",
  };
  auto all_shown = [&](const std::string& text) {
    for (const auto& line : expected_lines)
      if (text.find(line) == std::string::npos) return false;
    return true;
  };
  std::string text;
  for (int i = 0; i < 40 && !all_shown(text); ++i) {
    if (i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto [code, body] = HttpGet(port_, "/metrics");
    ASSERT_EQ(code, 200);
    text = body;
  }
  for (const auto& expected : expected_lines)
    EXPECT_NE(text.find(expected), std::string::npos) << expected << "\n" << text;
  EXPECT_EQ(text.find("/no/such/page"), std::string::npos) << "raw paths are not labels";
}

}  // namespace
}  // namespace sluice::e2e
