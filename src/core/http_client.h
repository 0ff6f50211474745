// HttpClient: the libcurl client every collector calls public APIs through. It owns the behaviour that makes
// unattended collection safe (DESIGN.md semantics 6), so collectors only say what to fetch:
//  - retries with exponential backoff and jitter on connection errors, timeouts and 500/502/503/504;
//  - rate limits wait instead of failing: GitHub's primary limit (403/429 with `x-ratelimit-remaining: 0`)
//    until `x-ratelimit-reset`; its secondary limit (403/429 saying "rate limit", or any 429) for
//    `retry-after` seconds if given, else at least `secondary_min_wait`, doubling each time; Docker Hub's
//    `X-Retry-After` (a Unix time); giving up (kRetry) after `max_rate_limit_waits` waits or when one wait
//    would exceed `max_wait`;
//  - conditional GETs with ETags: a 304 hands back the cached body (from_cache) and the cached headers in
//    kHeadersReusedOn304 it lacks, and does not count against GitHub's rate limit;
//  - a base URL for relative paths (tests, GitHub Enterprise);
//  - a token read from an environment variable by name at request time, never logged (Authorization and
//    token-bearing query parameters are redacted in every log line).
// Every wait goes through the Clock, so tests on a FakeClock do not sleep.
// A 4xx other than a rate limit is a response, not an error: the caller decides what a 404 or 403 means.
// Thread-safety: Send may be called from several threads at once (one curl handle per request; the ETag
// cache and jitter source are locked).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace sluice {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse;

struct HttpRequest {
  std::string method = "GET";
  std::string url;            // absolute, or a path joined to the client's base URL
  HttpHeaders headers;
  std::string body;
  bool conditional = true;    // GETs use the ETag cache when the client has one
  // When set, receives the last response received, also when Send fails (retries or rate-limit waits
  // exhausted): a failed run's evidence. Left alone when no response came at all.
  HttpResponse* last_response = nullptr;
};

struct HttpResponse {
  std::string url;            // the absolute URL requested
  int status = 0;
  HttpHeaders headers;        // names lower-cased, in arrival order
  std::string body;
  bool from_cache = false;    // a 304 answered with the cached body of an earlier 200
  TimePoint fetched_at;
  int attempts = 0;           // requests sent, rate-limit retries included
  std::vector<std::string> rate_limit_waits;  // each rate-limit wait this request made, as a sentence

  // The first header called `name` (any case), or nullopt.
  std::optional<std::string> Header(std::string_view name) const;
  // 2xx, or a 304 served from the cache.
  bool ok() const { return (status >= 200 && status < 300) || from_cache; }
};

// Status for a response that is not ok(): NotFound for 404/410, Retry for 5xx/429, Invalid otherwise; the
// message names method, URL, status and the start of the body.
Status HttpError(const HttpResponse& response, std::string_view method = "GET");

// The response headers a 304 takes from the cached 200 when it does not repeat them: the body's type and
// its pagination links (RFC 9110 does not require a 304 to resend Link, yet paging through cached pages
// needs it). A cache need keep no other response header.
inline constexpr std::array<std::string_view, 2> kHeadersReusedOn304 = {"content-type", "link"};

// Remembers the last 200 per URL so a conditional GET can be answered by a 304. Put is only called for a
// 200 that carried an ETag; an implementation may decline to keep an entry (Get then answers nullopt).
// Thread-safety: implementations must be thread-safe.
class EtagCache {
 public:
  struct Entry {
    std::string etag;
    std::string body;
    HttpHeaders headers;  // the 200's response headers (never the request's), names lower-cased
  };
  virtual ~EtagCache() = default;
  virtual std::optional<Entry> Get(const std::string& url) = 0;
  virtual void Put(const std::string& url, Entry entry) = 0;
};

class MemoryEtagCache final : public EtagCache {
 public:
  std::optional<Entry> Get(const std::string& url) override;
  void Put(const std::string& url, Entry entry) override;

 private:
  std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

struct HttpClientOptions {
  std::string base_url;                    // joined to relative request URLs
  std::string token_env;                   // env var holding a token; empty or unset: no Authorization
  std::string auth_scheme = "Bearer";      // "Authorization: <scheme> <token>"
  std::string user_agent = "sluice";
  // The API's name in rate-limit messages ("GitHub", "Docker Hub"): GitHub's terms (primary, secondary
  // limit) are used only for "GitHub" or an unnamed API.
  std::string api_name;
  HttpHeaders default_headers;             // sent with every request (values are never logged)
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds timeout{60'000};  // whole request
  int max_attempts = 5;                    // for connection errors, timeouts and 5xx
  std::chrono::milliseconds initial_backoff{1'000};
  std::chrono::milliseconds max_backoff{60'000};
  int max_rate_limit_waits = 8;
  std::chrono::seconds secondary_min_wait{60};
  std::chrono::seconds max_wait{3'600};    // a single wait longer than this gives up instead
  Clock* clock = Clock::Real();
  std::shared_ptr<EtagCache> etag_cache = std::make_shared<MemoryEtagCache>();  // null: no conditionals
  std::stop_token stop;                    // interrupts waits: Send returns kCancelled
  uint64_t jitter_seed = 0;                // 0: seeded from the OS
};

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options);

  // Sends `request`, retrying and waiting as described above. Errors: kRetry when retries or rate-limit
  // waits are exhausted (the message says which and the last cause), kCancelled when stopped, kInvalid for a
  // malformed URL.
  Result<HttpResponse> Send(HttpRequest request);
  Result<HttpResponse> Get(const std::string& url, HttpHeaders headers = {}, HttpResponse* last_response = nullptr);
  Result<HttpResponse> Post(const std::string& url, std::string body, HttpHeaders headers = {});

  // `url` made absolute against the base URL.
  std::string Resolve(const std::string& url) const;

  const HttpClientOptions& options() const { return options_; }

 private:
  struct Attempt;
  Attempt Perform(const HttpRequest& request, const std::string& url, const HttpHeaders& headers) const;
  std::chrono::milliseconds Backoff(int attempt);
  Status Wait(std::chrono::nanoseconds d);

  HttpClientOptions options_;
  std::mutex rng_mu_;
  std::mt19937_64 rng_;
};

// For log lines: Authorization, Proxy-Authorization, Cookie and token-like headers become "<redacted>".
std::string RedactHeaders(const HttpHeaders& headers);
// For log lines: values of query parameters such as access_token, token, key, password become "<redacted>".
std::string RedactUrl(std::string_view url);

}  // namespace sluice
