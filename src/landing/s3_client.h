// S3Client: the object-storage calls the landing store needs (issue 10), over libcurl and the SigV4 signer in
// sigv4.h: PutObject that never overwrites, GetObject, HeadObject and ListObjectsV2 with continuation tokens.
//
// Behaviour the landing store relies on:
//  - Never overwriting. Every PUT carries `If-None-Match: *`, which AWS S3 honours (since 2024) by answering
//    412 when the key exists. Servers that ignore it on PUT, s3rver 3.7 among them (it reads If-None-Match only
//    on GET/HEAD), would overwrite; unless `server_honours_if_none_match` is set the client therefore HEADs the
//    key first and refuses an existing one. That check is not atomic, which landing tolerates: keys are
//    deterministic (<stream>/dt=DAY/<batch_id>), so a racing writer writes the same batch.
//  - Retries. Connection errors, timeouts, 5xx and 409 ConditionalRequestConflict are retried with exponential
//    backoff and jitter (waits through the Clock) up to `max_attempts`, then reported as kRetry. A PUT that was
//    retried and then meets 412 is checked with a HEAD: if the stored ETag is the body's MD5 (a single-part
//    upload's ETag on S3 and s3rver), the earlier attempt landed and the PUT is Ok.
//  - Errors as Status: kNotFound for a missing key or bucket, kAlreadyExists for an existing key, kRetry for
//    transient failures, kInvalid for requests the server refuses as wrong (400, 403: bad credentials, bad
//    key) or missing credentials, kIo otherwise. Messages carry method, bucket/key, HTTP status and the S3
//    error code, never credentials.
//  - Credentials are read from environment variables named by the caller at each request (so a rotated key is
//    picked up), and never logged.
//  - Addressing: path-style (`endpoint/bucket/key`) by default, which local servers such as
//    http://127.0.0.1:PORT need; virtual-hosted style (`bucket.host/key`) on request.
//
// Google Cloud Storage: its S3-interoperable XML API takes the same requests with HMAC keys (Cloud Storage
// "interoperability" keys) as access key and secret: endpoint https://storage.googleapis.com, region "auto"
// (any region string is accepted; "auto" is what Google documents), service "s3". Differences: ListObjectsV2
// works (list-type=2); `If-None-Match: *` on PUT is not documented for the XML API, whose native precondition
// is `x-goog-if-generation-match: 0`, so leave `server_honours_if_none_match` false there (HEAD first).
//
// Thread-safety: all methods may be called from several threads at once (one curl handle per request; the
// jitter source is locked).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace sluice {

struct S3ClientOptions {
  std::string endpoint;  // "http://127.0.0.1:9000", "https://s3.eu-west-1.amazonaws.com"
  std::string bucket;
  std::string region = "us-east-1";  // "auto" for Google Cloud Storage
  std::string service = "s3";
  std::string access_key_env;  // names of environment variables, read at each request
  std::string secret_key_env;
  std::string session_token_env;              // optional; temporary credentials
  bool path_style = true;                     // false: https://bucket.host/key
  bool server_honours_if_none_match = false;  // true: skip the HEAD before a PUT (AWS S3)
  bool sign_payload = true;                   // false: UNSIGNED-PAYLOAD (saves hashing large bodies over TLS)
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds timeout{120'000};  // a whole request
  int max_attempts = 5;                        // per call, for transient failures
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{20'000};
  Clock* clock = Clock::Real();  // signing time and backoff waits
};

struct S3ObjectInfo {
  std::string key;
  uint64_t size = 0;
  std::string etag;           // as the server sent it, quotes included
  std::string last_modified;  // ISO-8601 in listings, an HTTP date from HEAD
};

struct S3ListPage {
  std::vector<S3ObjectInfo> objects;
  std::vector<std::string> common_prefixes;  // with a delimiter only
  bool truncated = false;
  std::string next_continuation_token;  // set when truncated
};

// One HTTP exchange as the client saw it; kept for tests (the last request's headers) and errors.
struct S3Exchange {
  std::string method;
  std::string url;
  std::vector<std::pair<std::string, std::string>> request_headers;  // as sent, Authorization included
  int status = 0;
};

class S3Client {
 public:
  explicit S3Client(S3ClientOptions options);

  // Stores `body` at `key` unless the key exists. Ok when stored (or when a retried attempt of this same call
  // had stored it); kAlreadyExists when the key was already there; see the header comment for the rest.
  Status PutObject(const std::string& key, const std::string& body,
                   const std::string& content_type = "application/octet-stream");

  // The object's bytes; kNotFound when the key does not exist.
  Result<std::string> GetObject(const std::string& key);

  // The object's size and ETag; kNotFound when the key does not exist.
  Result<S3ObjectInfo> HeadObject(const std::string& key);

  // One page of keys under `prefix` in key order, at most `max_keys` (the server may cap it at 1000); pass the
  // previous page's next_continuation_token to continue. `delimiter` (e.g. "/") groups keys into
  // common_prefixes.
  Result<S3ListPage> ListObjectsV2(const std::string& prefix, const std::string& continuation_token = "",
                                   int max_keys = 1000, const std::string& delimiter = "");

  // Every key under `prefix`, following continuation tokens, `page_size` keys per request.
  Result<std::vector<S3ObjectInfo>> ListAll(const std::string& prefix, int page_size = 1000);

  // The last exchange sent by this client (any thread's); for tests.
  S3Exchange last_exchange() const;

  const S3ClientOptions& options() const { return options_; }

 private:
  struct Response {
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
    std::string body;
    int attempts = 0;
    std::optional<std::string> Header(const std::string& name) const;
  };
  struct Call {
    std::string method;
    std::string key;  // empty: the bucket itself
    std::vector<std::pair<std::string, std::string>> query;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
  };

  // Sends `call`, signed afresh for each attempt, retrying transient failures; a response of any other status
  // is returned for the caller to map.
  Result<Response> Send(const Call& call);
  Status ErrorFor(const Call& call, const Response& response) const;
  std::chrono::milliseconds Backoff(int attempt);

  S3ClientOptions options_;
  std::string scheme_;     // "http" or "https"
  std::string host_;       // "127.0.0.1:9000": the endpoint's authority
  std::string base_path_;  // an endpoint's own path prefix, without trailing slash
  std::mutex mu_;
  std::mt19937_64 rng_;
  mutable std::mutex exchange_mu_;
  S3Exchange last_exchange_;
};

}  // namespace sluice
