// AWS Signature Version 4 (SigV4): the request signing S3, and Google Cloud Storage's S3-interoperable XML API
// with HMAC keys, require. Pure functions over a request description and a time the caller passes in, so the
// published AWS test vectors can be checked byte for byte (sigv4_test.cc) and nothing here reads a clock, the
// environment or the network. Hashes and HMACs come from OpenSSL (libcrypto).
//
// Paths are taken decoded and URI-encoded once, segment by segment, without dot-segment normalisation: that is
// S3's rule (an object key "a/../b" is a key, not a path to resolve). Other AWS services double-encode and
// normalise; the test-suite vectors used here (plain paths) read the same either way.
// Thread-safety: stateless; call from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"

namespace sluice::sigv4 {

// The payload hash that tells the server the body is not part of the signature (S3 accepts it over TLS and
// plain HTTP alike; it saves hashing large bodies twice).
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
// The hex SHA-256 of the empty string: the payload hash of a GET, HEAD or DELETE.
inline constexpr std::string_view kEmptyPayloadHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // temporary credentials only; sent and signed as x-amz-security-token
};

struct Request {
  std::string method = "GET";
  std::string path = "/";                                     // decoded ("/bucket/my key"); encoded here
  std::vector<std::pair<std::string, std::string>> query;     // decoded names and values, any order
  std::vector<std::pair<std::string, std::string>> headers;   // every header to sign; must include host
  std::string payload_hash = std::string(kEmptyPayloadHash);  // hex SHA-256 of the body, or kUnsignedPayload
};

struct Signed {
  std::string amz_date;           // "20150830T123600Z", sent as x-amz-date
  std::string signed_headers;     // "host;x-amz-date"
  std::string canonical_request;  // kept for error messages and tests; holds no secret
  std::string string_to_sign;
  std::string signature;      // lower-case hex
  std::string authorization;  // the Authorization header's value
  // Headers the caller must add to the request as sent: x-amz-date (unless the request had one),
  // x-amz-security-token (with a session token), and Authorization.
  std::vector<std::pair<std::string, std::string>> headers_to_add;
};

// RFC 3986 percent-encoding as SigV4 specifies it: unreserved characters (A-Z a-z 0-9 - . _ ~) stay, every
// other byte becomes %XX in upper-case hex; '/' stays only when `keep_slash` (paths), never in query parts.
std::string UriEncode(std::string_view s, bool keep_slash);

// "20150830T123600Z" for `t` in UTC (sub-second parts dropped).
std::string AmzDate(TimePoint t);

// Names and values encoded, sorted by name then value, joined "a=1&b=2"; a name without value gives "a=".
std::string CanonicalQueryString(const std::vector<std::pair<std::string, std::string>>& query);

// The canonical request: method, encoded path, canonical query, canonical headers (names lower-cased, values
// trimmed with inner runs of spaces collapsed, repeated names joined by commas in order, sorted by name),
// signed headers, payload hash. `signed_headers` receives "host;x-amz-date" style names.
std::string CanonicalRequest(const Request& request, std::string* signed_headers);

// "20150830/us-east-1/service/aws4_request".
std::string CredentialScope(std::string_view date, std::string_view region, std::string_view service);

std::string StringToSign(std::string_view amz_date, std::string_view scope, std::string_view canonical_request);

// HMAC chain: kSecret = "AWS4" + secret; kDate = HMAC(kSecret, date); kRegion; kService; HMAC(.., "aws4_request").
std::array<uint8_t, 32> SigningKey(std::string_view secret, std::string_view date, std::string_view region,
                                   std::string_view service);

std::string Sha256Hex(std::string_view data);
std::string HmacSha256Hex(const std::array<uint8_t, 32>& key, std::string_view data);

// Signs `request` at time `now` for `region`/`service`. An x-amz-date header already in the request is used
// as the signing time (the test suite's requests carry one); otherwise `now` is, and the header is added
// (signed and returned in headers_to_add). A session token is added as x-amz-security-token the same way.
Signed Sign(Request request, const Credentials& credentials, std::string_view region, std::string_view service,
            TimePoint now);

}  // namespace sluice::sigv4
