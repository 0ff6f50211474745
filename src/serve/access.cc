#include "serve/access.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <strings.h>

#include <algorithm>
#include <cctype>

namespace sluice {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// Splits "host[:port]" or "[v6][:port]" into a host (brackets kept) and a port ("" when absent). False for
// anything else: a bad port, stray colons, a bracket without its pair.
bool SplitHostPort(std::string_view hostport, std::string& host, std::string& port) {
  size_t end;
  if (!hostport.empty() && hostport.front() == '[') {
    end = hostport.find(']');
    if (end == std::string_view::npos) return false;
    ++end;
  } else {
    end = hostport.find(':');
    if (end == std::string_view::npos) end = hostport.size();
  }
  host = Lower(hostport.substr(0, end));
  std::string_view rest = hostport.substr(end);
  port.clear();
  if (rest.empty()) return !host.empty();
  if (rest.front() != ':' || rest.size() < 2 || rest.size() > 6) return false;
  port = rest.substr(1);
  return !host.empty() && port.find_first_not_of("0123456789") == std::string::npos;
}

bool IsLoopbackName(const std::string& host) {
  if (host == "localhost") return true;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    in6_addr v6{};
    return inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
  }
  in_addr v4{};
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

}  // namespace

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  // Walk the longer length whatever the contents; a length difference is folded into the result rather than
  // returned early. volatile keeps the compiler from turning the loop back into an early-exit compare.
  size_t n = std::max(a.size(), b.size());
  volatile unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff = diff | (x ^ y);
  }
  return diff == 0;
}

bool IsLoopbackHostHeader(std::string_view host) {
  std::string name, port;
  return SplitHostPort(host, name, port) && IsLoopbackName(name);
}

bool IsSameOrigin(std::string_view origin, std::string_view host) {
  std::string o = Lower(origin);
  std::string default_port;
  if (o.starts_with("http://")) {
    o = o.substr(7);
    default_port = "80";
  } else if (o.starts_with("https://")) {
    o = o.substr(8);
    default_port = "443";
  } else {
    return false;  // "null" (a sandboxed frame, a file: page) or no scheme
  }
  std::string origin_host, origin_port, host_name, host_port;
  if (!SplitHostPort(o, origin_host, origin_port) || !SplitHostPort(host, host_name, host_port)) return false;
  if (origin_port.empty()) origin_port = default_port;
  if (host_port.empty()) host_port = "80";  // this server speaks plain HTTP
  return origin_host == host_name && origin_port == host_port;
}

bool IsStateChanging(std::string_view method) { return method != "GET" && method != "HEAD" && method != "OPTIONS"; }

std::optional<Refusal> CheckAccess(const AccessPolicy& policy, const AccessRequest& r) {
  if (!policy.token.empty()) {
    if (policy.is_public && policy.is_public(r.path)) return std::nullopt;
    if (ConstantTimeEquals(r.authorization, "Bearer " + policy.token)) return std::nullopt;
    return Refusal{401, "missing or wrong bearer token"};
  }
  if (!IsLoopbackHostHeader(r.host))
    return Refusal{403, "Host '" + r.host +
                            "' is not a loopback name: without a token this server answers only requests addressed "
                            "to localhost, 127.0.0.1 or [::1] (a defence against DNS rebinding); set "
                            "server.token_env to serve other names"};
  if (IsStateChanging(r.method)) {
    if (!r.origin.empty() && !IsSameOrigin(r.origin, r.host))
      return Refusal{403, "cross-site request refused: Origin '" + r.origin + "' is not this server (http://" + r.host +
                              "); without a token only same-origin pages may " + r.method};
    if (Lower(r.sec_fetch_site) == "cross-site")
      return Refusal{403,
                     "cross-site request refused (Sec-Fetch-Site: cross-site); without a token only "
                     "same-origin pages may " +
                         r.method};
  }
  return std::nullopt;
}

}  // namespace sluice
