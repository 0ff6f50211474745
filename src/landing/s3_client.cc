#include "landing/s3_client.h"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <memory>

#include "landing/sigv4.h"

namespace sluice {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  std::string_view line(data, size * n);
  const size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
      value.remove_suffix(1);
    }
    static_cast<Pairs*>(user)->emplace_back(Lower(std::string(line.substr(0, colon))), std::string(value));
  }
  return size * n;
}

std::string XmlUnescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out.push_back(s[i]);
      continue;
    }
    const size_t semi = s.find(';', i);
    if (semi == std::string_view::npos) {
      out.push_back('&');
      continue;
    }
    const std::string_view entity = s.substr(i + 1, semi - i - 1);
    if (entity == "amp")
      out.push_back('&');
    else if (entity == "lt")
      out.push_back('<');
    else if (entity == "gt")
      out.push_back('>');
    else if (entity == "quot")
      out.push_back('"');
    else if (entity == "apos")
      out.push_back('\'');
    else if (!entity.empty() && entity[0] == '#') {
      const bool hex = entity.size() > 1 && (entity[1] == 'x' || entity[1] == 'X');
      const unsigned long cp = std::strtoul(std::string(entity.substr(hex ? 2 : 1)).c_str(), nullptr, hex ? 16 : 10);
      // UTF-8 encode the code point: keys are UTF-8.
      if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
      } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      }
    } else {
      out.append(s.substr(i, semi - i + 1));  // unknown entity: keep it as written
    }
    i = semi;
  }
  return out;
}

// The text of each <tag>...</tag> directly in `xml`, in order. S3's listing XML is flat enough (no attributes
// on these elements, no CDATA) that a tag scan is exact; a full XML parser would be a dependency for nothing.
std::vector<std::string_view> Elements(std::string_view xml, std::string_view tag) {
  std::vector<std::string_view> out;
  const std::string open = "<" + std::string(tag) + ">";
  const std::string close = "</" + std::string(tag) + ">";
  size_t pos = 0;
  while ((pos = xml.find(open, pos)) != std::string_view::npos) {
    const size_t start = pos + open.size();
    const size_t end = xml.find(close, start);
    if (end == std::string_view::npos) break;
    out.push_back(xml.substr(start, end - start));
    pos = end + close.size();
  }
  return out;
}

std::string Element(std::string_view xml, std::string_view tag) {
  auto all = Elements(xml, tag);
  return all.empty() ? std::string() : XmlUnescape(all.front());
}

std::string Md5Hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_md5(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

bool Transient(int status) { return status >= 500 || status == 409; }

}  // namespace

std::optional<std::string> S3Client::Response::Header(const std::string& name) const {
  const std::string lower = Lower(name);
  for (const auto& [n, v] : headers) {
    if (n == lower) return v;
  }
  return std::nullopt;
}

S3Client::S3Client(S3ClientOptions options) : options_(std::move(options)), rng_(std::random_device{}()) {
  curl_global_init(CURL_GLOBAL_DEFAULT);  // idempotent and reference-counted
  std::string_view e = options_.endpoint;
  const size_t sep = e.find("://");
  scheme_ = sep == std::string_view::npos ? "https" : std::string(e.substr(0, sep));
  if (sep != std::string_view::npos) e.remove_prefix(sep + 3);
  const size_t slash = e.find('/');
  host_ = std::string(e.substr(0, slash));
  if (slash != std::string_view::npos) {
    base_path_ = std::string(e.substr(slash));
    while (!base_path_.empty() && base_path_.back() == '/') base_path_.pop_back();
  }
}

S3Exchange S3Client::last_exchange() const {
  std::lock_guard<std::mutex> lock(exchange_mu_);
  return last_exchange_;
}

std::chrono::milliseconds S3Client::Backoff(int attempt) {
  const int64_t base = options_.initial_backoff.count();
  int64_t d = base << std::min(attempt - 1, 20);
  d = std::min<int64_t>(d, options_.max_backoff.count());
  std::lock_guard<std::mutex> lock(mu_);
  // Half fixed, half random: spreads workers that failed together without ever waiting near zero.
  std::uniform_int_distribution<int64_t> jitter(0, std::max<int64_t>(d / 2, 0));
  return std::chrono::milliseconds(d - d / 2 + jitter(rng_));
}

Result<S3Client::Response> S3Client::Send(const Call& call) {
  const char* access = options_.access_key_env.empty() ? nullptr : std::getenv(options_.access_key_env.c_str());
  const char* secret = options_.secret_key_env.empty() ? nullptr : std::getenv(options_.secret_key_env.c_str());
  if (!access || !*access || !secret || !*secret) {
    return Status::Invalid("s3: credentials missing: set the environment variables " + options_.access_key_env +
                           " and " + options_.secret_key_env);
  }
  sigv4::Credentials credentials{access, secret, ""};
  if (!options_.session_token_env.empty()) {
    if (const char* token = std::getenv(options_.session_token_env.c_str())) credentials.session_token = token;
  }

  std::string host = host_;
  std::string path = base_path_;
  if (options_.path_style) {
    path += "/" + options_.bucket;
  } else {
    host = options_.bucket + "." + host_;
  }
  if (!call.key.empty() || !options_.path_style) path += "/" + call.key;
  std::string url = scheme_ + "://" + host + sigv4::UriEncode(path, true);
  const std::string query = sigv4::CanonicalQueryString(call.query);  // the spec's encoding is valid on the wire
  if (!query.empty()) url += "?" + query;
  const std::string payload_hash =
      options_.sign_payload ? sigv4::Sha256Hex(call.body) : std::string(sigv4::kUnsignedPayload);
  const std::string what = call.method + " s3://" + options_.bucket + "/" + call.key;

  std::string last_failure;
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    if (attempt > 1) options_.clock->SleepFor(Backoff(attempt - 1));
    sigv4::Request request;
    request.method = call.method;
    request.path = path;
    request.query = call.query;
    request.headers = call.headers;
    request.headers.emplace_back("host", host);
    request.headers.emplace_back("x-amz-content-sha256", payload_hash);
    request.payload_hash = payload_hash;
    const sigv4::Signed signed_request =
        sigv4::Sign(request, credentials, options_.region, options_.service, options_.clock->Now());
    Pairs sent = request.headers;
    sent.insert(sent.end(), signed_request.headers_to_add.begin(), signed_request.headers_to_add.end());

    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> h(curl_easy_init(), curl_easy_cleanup);
    if (!h) return Status::Internal("s3: curl_easy_init failed");
    curl_slist* list = nullptr;
    for (const auto& [n, v] : sent) list = curl_slist_append(list, (n + ": " + v).c_str());
    // curl would add "Expect: 100-continue" to large bodies (a round trip for nothing) and a form Content-Type.
    list = curl_slist_append(list, "Expect:");
    if (call.method == "PUT" &&
        std::none_of(sent.begin(), sent.end(), [](const auto& p) { return Lower(p.first) == "content-type"; })) {
      list = curl_slist_append(list, "Content-Type: application/octet-stream");
    }
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(list, curl_slist_free_all);

    Response response;
    curl_easy_setopt(h.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(h.get(), CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(h.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h.get(), CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
    curl_easy_setopt(h.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
    curl_easy_setopt(h.get(), CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(h.get(), CURLOPT_WRITEDATA, &response.body);
    curl_easy_setopt(h.get(), CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(h.get(), CURLOPT_HEADERDATA, &response.headers);
    if (call.method == "HEAD") {
      curl_easy_setopt(h.get(), CURLOPT_NOBODY, 1L);  // a custom "HEAD" would wait for a body that never comes
    } else if (call.method != "GET") {
      curl_easy_setopt(h.get(), CURLOPT_CUSTOMREQUEST, call.method.c_str());
      curl_easy_setopt(h.get(), CURLOPT_POSTFIELDS, call.body.data());
      curl_easy_setopt(h.get(), CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(call.body.size()));
    }
    {
      std::lock_guard<std::mutex> lock(exchange_mu_);
      last_exchange_ = S3Exchange{call.method, url, sent, 0};
    }
    const CURLcode rc = curl_easy_perform(h.get());
    response.attempts = attempt;
    if (rc != CURLE_OK) {
      last_failure = curl_easy_strerror(rc);
      continue;  // connection refused, reset, timeout: all worth another try
    }
    long status = 0;
    curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &status);
    response.status = static_cast<int>(status);
    {
      std::lock_guard<std::mutex> lock(exchange_mu_);
      last_exchange_.status = response.status;
    }
    if (Transient(response.status)) {
      const std::string code = Element(response.body, "Code");
      last_failure = "HTTP " + std::to_string(response.status) + (code.empty() ? "" : " " + code);
      continue;
    }
    return response;
  }
  return Status::Retry("s3: " + what + ": gave up after " + std::to_string(options_.max_attempts) +
                       " attempts: " + last_failure);
}

Status S3Client::ErrorFor(const Call& call, const Response& response) const {
  const std::string code = Element(response.body, "Code");
  std::string msg = "s3: " + call.method + " s3://" + options_.bucket + "/" + call.key + ": HTTP " +
                    std::to_string(response.status) + (code.empty() ? "" : " " + code);
  const std::string detail = Element(response.body, "Message");
  if (!detail.empty()) msg += ": " + detail;
  if (response.status == 404) return Status::NotFound(msg);
  if (response.status == 412) return Status::AlreadyExists(msg);
  if (response.status == 400 || response.status == 403 || response.status == 405) return Status::Invalid(msg);
  return Status::Io(msg);
}

Status S3Client::PutObject(const std::string& key, const std::string& body, const std::string& content_type) {
  if (key.empty()) return Status::Invalid("s3: PutObject: empty key");
  if (!options_.server_honours_if_none_match) {
    auto existing = HeadObject(key);
    if (existing.ok()) return Status::AlreadyExists("s3: s3://" + options_.bucket + "/" + key + " exists");
    if (!existing.status().IsNotFound()) return existing.status();
  }
  Call call{"PUT", key, {}, {{"content-type", content_type}, {"if-none-match", "*"}}, body};
  ASSIGN_OR_RETURN(Response response, Send(call));
  if (response.status >= 200 && response.status < 300) return Status::Ok();
  if (response.status == 412 && response.attempts > 1) {
    // An earlier attempt may have landed before its answer was lost: then the object is ours, not a conflict.
    auto existing = HeadObject(key);
    if (existing.ok() && existing->etag == "\"" + Md5Hex(body) + "\"") return Status::Ok();
  }
  return ErrorFor(call, response);
}

Result<std::string> S3Client::GetObject(const std::string& key) {
  Call call{"GET", key, {}, {}, ""};
  ASSIGN_OR_RETURN(Response response, Send(call));
  if (response.status != 200) return ErrorFor(call, response);
  return std::move(response.body);
}

Result<S3ObjectInfo> S3Client::HeadObject(const std::string& key) {
  Call call{"HEAD", key, {}, {}, ""};
  ASSIGN_OR_RETURN(Response response, Send(call));
  if (response.status != 200) return ErrorFor(call, response);  // a HEAD's error has no body: the status says it
  S3ObjectInfo info;
  info.key = key;
  info.size = std::strtoull(response.Header("content-length").value_or("0").c_str(), nullptr, 10);
  info.etag = response.Header("etag").value_or("");
  info.last_modified = response.Header("last-modified").value_or("");
  return info;
}

Result<S3ListPage> S3Client::ListObjectsV2(const std::string& prefix, const std::string& continuation_token,
                                           int max_keys, const std::string& delimiter) {
  Call call{"GET", "", {{"list-type", "2"}, {"prefix", prefix}, {"max-keys", std::to_string(max_keys)}}, {}, ""};
  if (!continuation_token.empty()) call.query.emplace_back("continuation-token", continuation_token);
  if (!delimiter.empty()) call.query.emplace_back("delimiter", delimiter);
  ASSIGN_OR_RETURN(Response response, Send(call));
  if (response.status != 200) return ErrorFor(call, response);
  S3ListPage page;
  for (std::string_view contents : Elements(response.body, "Contents")) {
    S3ObjectInfo info;
    info.key = Element(contents, "Key");
    info.size = std::strtoull(Element(contents, "Size").c_str(), nullptr, 10);
    info.etag = Element(contents, "ETag");
    info.last_modified = Element(contents, "LastModified");
    page.objects.push_back(std::move(info));
  }
  for (std::string_view common : Elements(response.body, "CommonPrefixes")) {
    page.common_prefixes.push_back(Element(common, "Prefix"));
  }
  page.truncated = Element(response.body, "IsTruncated") == "true";
  page.next_continuation_token = Element(response.body, "NextContinuationToken");
  if (page.truncated && page.next_continuation_token.empty()) {
    return Status::Io("s3: ListObjectsV2 s3://" + options_.bucket + "/" + prefix +
                      ": truncated listing without a continuation token");
  }
  return page;
}

Result<std::vector<S3ObjectInfo>> S3Client::ListAll(const std::string& prefix, int page_size) {
  std::vector<S3ObjectInfo> all;
  std::string token;
  do {
    ASSIGN_OR_RETURN(S3ListPage page, ListObjectsV2(prefix, token, page_size));
    for (auto& o : page.objects) all.push_back(std::move(o));
    token = page.truncated ? page.next_continuation_token : "";
  } while (!token.empty());
  return all;
}

}  // namespace sluice
