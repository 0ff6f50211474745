// Access: the per-request check of `sluice run`'s HTTP server, run before any route.
//   With a token: a request carrying "Authorization: Bearer <token>" is served from anywhere; others get 401,
//   except the public paths (/healthz, /metrics, the dashboard page and assets), which hold no data.
//   Without a token (the server then listens on loopback only, see exposure.h): the Host header must be a
//   loopback name (localhost, 127.x.x.x, [::1], with an optional port), or 403: a page on evil.example whose
//   name was re-pointed at 127.0.0.1 (DNS rebinding) still sends "Host: evil.example". And a state-changing
//   request (POST, PUT, ...) from a browser on another site, told by its Origin or Sec-Fetch-Site header, is
//   refused with 403: without a token nothing else stops a page from posting to localhost (CSRF).
// Thread-safety: pure functions; an AccessPolicy is immutable once built.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace sluice {

// Compares in time that depends only on the lengths, never on where the first difference is, so a remote
// client cannot find the token a byte at a time by timing 401s.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Whether a Host header value names this machine by a loopback name: localhost, 127.x.x.x or [::1], each
// with an optional :port.
bool IsLoopbackHostHeader(std::string_view host);

// Whether `origin` (an Origin header, "http://host:port") is the origin of a request whose Host header is
// `host`: same host and port (a missing port is the scheme's default). "null" is never the same origin.
bool IsSameOrigin(std::string_view origin, std::string_view host);

// Whether `method` may change state (anything but GET, HEAD, OPTIONS).
bool IsStateChanging(std::string_view method);

struct AccessPolicy {
  std::string token;                                  // "" serves without a token (loopback only)
  std::function<bool(const std::string&)> is_public;  // paths served without a token
};

struct AccessRequest {
  std::string method, path;
  std::string host;            // the Host header
  std::string origin;          // the Origin header, "" when absent
  std::string sec_fetch_site;  // the Sec-Fetch-Site header, "" when absent
  std::string authorization;   // the Authorization header
};

struct Refusal {
  int code;             // 401 or 403
  std::string message;  // for the JSON error body
};

// nullopt when `request` may go on to its route, else the answer to give.
std::optional<Refusal> CheckAccess(const AccessPolicy& policy, const AccessRequest& request);

}  // namespace sluice
