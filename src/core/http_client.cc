#include "core/http_client.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <mutex>

namespace sluice {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view TrimWs(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::optional<int64_t> ParseInt(std::optional<std::string> text) {
  if (!text) return std::nullopt;
  std::string_view s = TrimWs(*text);
  if (s.empty()) return std::nullopt;
  int64_t v = 0;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t WriteHeader(char* data, size_t size, size_t n, void* user) {
  auto* headers = static_cast<HttpHeaders*>(user);
  std::string_view line(data, size * n);
  if (line.substr(0, 5) == "HTTP/") {
    headers->clear();  // a new response in a redirect chain (or after 100 Continue)
  } else if (size_t colon = line.find(':'); colon != std::string_view::npos) {
    headers->emplace_back(Lower(TrimWs(line.substr(0, colon))), std::string(TrimWs(line.substr(colon + 1))));
  }
  return size * n;
}

bool IsRetryableStatus(int status) { return status == 500 || status == 502 || status == 503 || status == 504; }

bool IsSecret(std::string_view name) {
  std::string n = Lower(name);
  return n == "authorization" || n == "proxy-authorization" || n == "cookie" ||
         n.find("token") != std::string::npos || n.find("api-key") != std::string::npos ||
         n.find("apikey") != std::string::npos || n.find("secret") != std::string::npos;
}

std::string HumanSeconds(std::chrono::nanoseconds d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count() / 1000.0).substr(0, 6) + "s";
}

}  // namespace

std::optional<std::string> HttpResponse::Header(std::string_view name) const {
  std::string want = Lower(name);
  for (const auto& [k, v] : headers) {
    if (k == want) return v;
  }
  return std::nullopt;
}

Status HttpError(const HttpResponse& r, std::string_view method) {
  std::string msg = std::string(method) + " " + RedactUrl(r.url) + ": HTTP " + std::to_string(r.status);
  if (!r.body.empty()) msg += ": " + r.body.substr(0, 200);
  if (r.status == 404 || r.status == 410) return Status::NotFound(msg);
  if (r.status == 429 || r.status >= 500) return Status::Retry(msg);
  return Status::Invalid(msg);
}

std::optional<EtagCache::Entry> MemoryEtagCache::Get(const std::string& url) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(url);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

void MemoryEtagCache::Put(const std::string& url, Entry entry) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_[url] = std::move(entry);
}

std::string RedactHeaders(const HttpHeaders& headers) {
  std::string out;
  for (const auto& [k, v] : headers) {
    if (!out.empty()) out += ", ";
    out += k + ": " + (IsSecret(k) ? std::string("<redacted>") : v);
  }
  return out;
}

std::string RedactUrl(std::string_view url) {
  size_t q = url.find('?');
  if (q == std::string_view::npos) return std::string(url);
  std::string out(url.substr(0, q + 1));
  std::string_view query = url.substr(q + 1);
  bool first = true;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (!first) out += '&';
    first = false;
    size_t eq = param.find('=');
    std::string name = Lower(param.substr(0, eq));
    if (eq != std::string_view::npos &&
        (IsSecret(name) || name == "key" || name == "password" || name == "access_token" || name == "sig")) {
      out += std::string(param.substr(0, eq)) + "=<redacted>";
    } else {
      out += param;
    }
  }
  return out;
}

struct HttpClient::Attempt {
  CURLcode curl = CURLE_OK;
  std::string curl_error;
  HttpResponse response;
};

HttpClient::HttpClient(HttpClientOptions options)
    : options_(std::move(options)),
      rng_(options_.jitter_seed ? options_.jitter_seed : std::random_device{}()) {
  InitCurlOnce();
  if (!options_.clock) options_.clock = Clock::Real();
}

std::string HttpClient::Resolve(const std::string& url) const {
  if (url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0) return url;
  std::string base = options_.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + (url.empty() || url.front() == '/' ? "" : "/") + url;
}

Result<HttpResponse> HttpClient::Get(const std::string& url, HttpHeaders headers, HttpResponse* last_response) {
  HttpRequest r;
  r.url = url;
  r.headers = std::move(headers);
  r.last_response = last_response;
  return Send(std::move(r));
}

Result<HttpResponse> HttpClient::Post(const std::string& url, std::string body, HttpHeaders headers) {
  HttpRequest r;
  r.method = "POST";
  r.url = url;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return Send(std::move(r));
}

HttpClient::Attempt HttpClient::Perform(const HttpRequest& request, const std::string& url,
                                        const HttpHeaders& headers) const {
  Attempt a;
  a.response.url = url;
  CURL* h = curl_easy_init();
  if (!h) {
    a.curl = CURLE_FAILED_INIT;
    a.curl_error = "curl_easy_init failed";
    return a;
  }
  curl_slist* list = nullptr;
  for (const auto& [k, v] : headers) list = curl_slist_append(list, (k + ": " + v).c_str());
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(h, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM: we run on many threads
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");  // whatever curl can decode (gzip, deflate)
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &a.response.body);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, WriteHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &a.response.headers);
  if (request.method == "POST") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else if (request.method != "GET") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    if (!request.body.empty()) {
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    }
  }
  a.curl = curl_easy_perform(h);
  if (a.curl != CURLE_OK) {
    a.curl_error = errbuf[0] ? errbuf : curl_easy_strerror(a.curl);
  } else {
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    a.response.status = static_cast<int>(status);
  }
  curl_slist_free_all(list);
  curl_easy_cleanup(h);
  return a;
}

std::chrono::milliseconds HttpClient::Backoff(int attempt) {
  // Full exponential, then "equal jitter": somewhere in [b/2, b], so a crowd of clients spreads out.
  double b = static_cast<double>(options_.initial_backoff.count());
  for (int i = 1; i < attempt && b < options_.max_backoff.count(); ++i) b *= 2;
  b = std::min(b, static_cast<double>(options_.max_backoff.count()));
  std::lock_guard<std::mutex> lock(rng_mu_);
  std::uniform_real_distribution<double> jitter(0.5, 1.0);
  return std::chrono::milliseconds(static_cast<int64_t>(b * jitter(rng_)));
}

Status HttpClient::Wait(std::chrono::nanoseconds d) {
  // In steps of at most a second so a stop request ends a long rate-limit wait promptly.
  while (d.count() > 0) {
    if (options_.stop.stop_requested()) return Status::Cancelled("stopped while waiting");
    auto step = std::min<std::chrono::nanoseconds>(d, std::chrono::seconds(1));
    options_.clock->SleepFor(step);
    d -= step;
  }
  return options_.stop.stop_requested() ? Status::Cancelled("stopped while waiting") : Status::Ok();
}

Result<HttpResponse> HttpClient::Send(HttpRequest request) {
  const std::string url = Resolve(request.url);
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    return Status::Invalid("not an http(s) URL: \"" + RedactUrl(url) + "\" (set a base URL for relative paths)");
  }
  const std::string what = request.method + " " + RedactUrl(url);

  HttpHeaders headers = options_.default_headers;
  for (auto& h : request.headers) headers.push_back(h);
  if (!options_.token_env.empty()) {
    const char* token = std::getenv(options_.token_env.c_str());
    if (token && *token) headers.emplace_back("Authorization", options_.auth_scheme + " " + token);
  }
  std::optional<EtagCache::Entry> cached;
  const bool conditional = request.conditional && request.method == "GET" && options_.etag_cache;
  if (conditional) {
    cached = options_.etag_cache->Get(url);
    if (cached) headers.emplace_back("If-None-Match", cached->etag);
  }

  int attempts = 0, failures = 0, rate_waits = 0;
  std::chrono::seconds secondary_wait = options_.secondary_min_wait;
  std::vector<std::string> waits_made;
  const bool github_terms = options_.api_name.empty() || options_.api_name == "GitHub";
  const std::string api = options_.api_name.empty() ? "" : options_.api_name + " ";
  while (true) {
    if (options_.stop.stop_requested()) return Status::Cancelled(what + ": stopped");
    ++attempts;
    spdlog::debug("http: {} (attempt {}) headers: {}", what, attempts, RedactHeaders(headers));
    Attempt a = Perform(request, url, headers);
    a.response.fetched_at = options_.clock->Now();
    a.response.attempts = attempts;
    a.response.rate_limit_waits = waits_made;
    HttpResponse& r = a.response;
    if (request.last_response && a.curl == CURLE_OK) *request.last_response = r;

    std::string failure;
    if (a.curl != CURLE_OK) {
      failure = a.curl == CURLE_OPERATION_TIMEDOUT ? "timed out: " + a.curl_error : a.curl_error;
    } else if (IsRetryableStatus(r.status)) {
      failure = "HTTP " + std::to_string(r.status);
    }
    if (!failure.empty()) {
      if (++failures >= options_.max_attempts) {
        return Status::Retry(what + ": gave up after " + std::to_string(failures) + " attempts: " + failure);
      }
      auto wait = Backoff(failures);
      spdlog::warn("http: {}: {}; retrying in {}", what, failure, HumanSeconds(wait));
      RETURN_IF_ERROR(Wait(wait).WithContext(what));
      continue;
    }

    if (r.status == 403 || r.status == 429) {
      const TimePoint now = options_.clock->Now();
      std::optional<std::chrono::nanoseconds> wait;
      std::string kind;
      auto remaining = r.Header("x-ratelimit-remaining");
      auto reset = ParseInt(r.Header("x-ratelimit-reset"));
      auto docker_until = ParseInt(r.Header("x-retry-after"));
      auto retry_after = ParseInt(r.Header("retry-after"));
      if (remaining && TrimWs(*remaining) == "0" && reset) {
        kind = api + (github_terms ? "primary rate limit" : "rate limit (x-ratelimit-reset)");
        wait = std::max<std::chrono::nanoseconds>(FromUnixSeconds(*reset) - now, std::chrono::seconds(0)) +
               std::chrono::seconds(1);  // the reset second itself may still be limited
      } else if (docker_until) {
        kind = api + "rate limit (X-Retry-After)";
        wait = std::max<std::chrono::nanoseconds>(FromUnixSeconds(*docker_until) - now, std::chrono::seconds(1));
      } else if (retry_after) {
        kind = api + (github_terms ? "secondary rate limit (retry-after)" : "rate limit (retry-after)");
        wait = std::chrono::seconds(*retry_after);
      } else if (r.status == 429 || Lower(r.body).find("rate limit") != std::string::npos) {
        kind = api + (github_terms ? "secondary rate limit" : "rate limit (HTTP " + std::to_string(r.status) + ")");
        wait = secondary_wait;
        secondary_wait *= 2;
      }
      if (wait) {  // otherwise a plain 403: the caller's business (e.g. no push access for traffic)
        if (++rate_waits > options_.max_rate_limit_waits) {
          return Status::Retry(what + ": gave up after " + std::to_string(options_.max_rate_limit_waits) +
                               " rate-limit waits: HTTP " + std::to_string(r.status) + " " + kind);
        }
        if (*wait > options_.max_wait) {
          return Status::Retry(what + ": " + kind + " asks to wait " + HumanSeconds(*wait) +
                               ", more than the " + std::to_string(options_.max_wait.count()) + "s limit");
        }
        spdlog::warn("http: {}: HTTP {} {}; waiting {}", what, r.status, kind, HumanSeconds(*wait));
        waits_made.push_back(RedactUrl(url) + ": HTTP " + std::to_string(r.status) + " " + kind + ", waited " +
                             HumanSeconds(*wait));
        RETURN_IF_ERROR(Wait(*wait).WithContext(what));
        continue;
      }
    }

    if (r.status == 304 && cached) {
      r.body = cached->body;
      r.from_cache = true;
      std::vector<std::string_view> missing;
      for (std::string_view name : kHeadersReusedOn304) {
        if (!r.Header(name)) missing.push_back(name);
      }
      for (const auto& h : cached->headers) {
        if (std::find(missing.begin(), missing.end(), h.first) != missing.end()) r.headers.push_back(h);
      }
    } else if (conditional && r.status == 200) {
      if (auto etag = r.Header("etag")) options_.etag_cache->Put(url, {*etag, r.body, r.headers});
    }
    spdlog::debug("http: {} -> {}{} ({} bytes)", what, r.status, r.from_cache ? " (cached body)" : "",
                  r.body.size());
    return std::move(a.response);
  }
}

}  // namespace sluice
