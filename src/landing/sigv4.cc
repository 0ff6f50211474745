#include "landing/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>

namespace sluice::sigv4 {
namespace {

constexpr char kHex[] = "0123456789abcdef";

std::string ToHex(const uint8_t* data, size_t n) {
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kHex[data[i] >> 4]);
    out.push_back(kHex[data[i] & 0xf]);
  }
  return out;
}

std::array<uint8_t, 32> Hmac(const uint8_t* key, size_t key_len, std::string_view data) {
  std::array<uint8_t, 32> out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key, static_cast<int>(key_len), reinterpret_cast<const unsigned char*>(data.data()), data.size(),
       out.data(), &len);
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Trims both ends and collapses each inner run of spaces to one, as the spec asks of header values (quoted
// strings included: the published get-header-value-trim vector does the same).
std::string TrimAll(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

bool Unreserved(unsigned char c) { return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~'; }

}  // namespace

std::string UriEncode(std::string_view s, bool keep_slash) {
  static constexpr char kUpperHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (Unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kUpperHex[c >> 4]);
      out.push_back(kUpperHex[c & 0xf]);
    }
  }
  return out;
}

std::string AmzDate(TimePoint t) {
  const std::time_t secs = static_cast<std::time_t>(ToUnixSeconds(t));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string CanonicalQueryString(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) encoded.emplace_back(UriEncode(name, false), UriEncode(value, false));
  // Sorting the encoded forms by byte value is what the spec means by "sorted by code point".
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out.push_back('&');
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

std::string CanonicalRequest(const Request& request, std::string* signed_headers) {
  std::map<std::string, std::string> headers;  // ordered by lower-case name, as the spec sorts them
  for (const auto& [name, value] : request.headers) {
    std::string& joined = headers[Lower(name)];
    if (!joined.empty()) joined.push_back(',');
    joined += TrimAll(value);
  }
  std::string canonical_headers;
  std::string names;
  for (const auto& [name, value] : headers) {
    canonical_headers += name + ":" + value + "\n";
    if (!names.empty()) names.push_back(';');
    names += name;
  }
  if (signed_headers) *signed_headers = names;
  std::string path = request.path.empty() ? "/" : request.path;
  return request.method + "\n" + UriEncode(path, true) + "\n" + CanonicalQueryString(request.query) + "\n" +
         canonical_headers + "\n" + names + "\n" + request.payload_hash;
}

std::string CredentialScope(std::string_view date, std::string_view region, std::string_view service) {
  return std::string(date) + "/" + std::string(region) + "/" + std::string(service) + "/aws4_request";
}

std::string StringToSign(std::string_view amz_date, std::string_view scope, std::string_view canonical_request) {
  return "AWS4-HMAC-SHA256\n" + std::string(amz_date) + "\n" + std::string(scope) + "\n" + Sha256Hex(canonical_request);
}

std::array<uint8_t, 32> SigningKey(std::string_view secret, std::string_view date, std::string_view region,
                                   std::string_view service) {
  const std::string k_secret = "AWS4" + std::string(secret);
  auto k = Hmac(reinterpret_cast<const uint8_t*>(k_secret.data()), k_secret.size(), date);
  k = Hmac(k.data(), k.size(), region);
  k = Hmac(k.data(), k.size(), service);
  return Hmac(k.data(), k.size(), "aws4_request");
}

std::string Sha256Hex(std::string_view data) {
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return ToHex(digest, sizeof digest);
}

std::string HmacSha256Hex(const std::array<uint8_t, 32>& key, std::string_view data) {
  const auto mac = Hmac(key.data(), key.size(), data);
  return ToHex(mac.data(), mac.size());
}

Signed Sign(Request request, const Credentials& credentials, std::string_view region, std::string_view service,
            TimePoint now) {
  Signed out;
  for (const auto& [name, value] : request.headers) {
    if (Lower(name) == "x-amz-date") out.amz_date = TrimAll(value);
  }
  if (out.amz_date.empty()) {
    out.amz_date = AmzDate(now);
    request.headers.emplace_back("x-amz-date", out.amz_date);
    out.headers_to_add.emplace_back("x-amz-date", out.amz_date);
  }
  if (!credentials.session_token.empty()) {
    request.headers.emplace_back("x-amz-security-token", credentials.session_token);
    out.headers_to_add.emplace_back("x-amz-security-token", credentials.session_token);
  }
  const std::string date = out.amz_date.substr(0, 8);
  const std::string scope = CredentialScope(date, region, service);
  out.canonical_request = CanonicalRequest(request, &out.signed_headers);
  out.string_to_sign = StringToSign(out.amz_date, scope, out.canonical_request);
  out.signature = HmacSha256Hex(SigningKey(credentials.secret_access_key, date, region, service), out.string_to_sign);
  out.authorization = "AWS4-HMAC-SHA256 Credential=" + credentials.access_key_id + "/" + scope +
                      ", SignedHeaders=" + out.signed_headers + ", Signature=" + out.signature;
  out.headers_to_add.emplace_back("Authorization", out.authorization);
  return out;
}

}  // namespace sluice::sigv4
