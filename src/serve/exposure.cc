#include "serve/exposure.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <strings.h>

#include <cstdlib>
#include <cstring>

namespace sluice {

Result<ListenAddress> ParseListen(const std::string& listen) {
  ListenAddress a;
  size_t colon = listen.rfind(':');
  std::string port = listen;
  if (colon == std::string::npos) {
    a.host = "127.0.0.1";
  } else {
    a.host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
    if (a.host.size() >= 2 && a.host.front() == '[' && a.host.back() == ']')
      a.host = a.host.substr(1, a.host.size() - 2);
  }
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::atoi(port.c_str()) > 65535)
    return Status::Invalid("listen address '" + listen + "': expected host:port (e.g. 127.0.0.1:8080)");
  a.port = std::atoi(port.c_str());
  return a;
}

bool IsLoopbackListenHost(std::string_view host) {
  std::string h(host);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (strcasecmp(h.c_str(), "localhost") == 0) return true;
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

Result<std::string> ResolveServerToken(const Config& config, const std::string& listen) {
  std::string token;
  if (!config.token_env.empty()) {
    const char* value = std::getenv(config.token_env.c_str());
    if (value == nullptr || *value == '\0')
      return Status::Invalid("server.token_env names the environment variable " + config.token_env + ", which is " +
                             (value ? "empty" : "unset") +
                             ": export it with the API token, or remove server.token_env to serve without a token "
                             "on a loopback address");
    token = value;
  }
  ASSIGN_OR_RETURN(ListenAddress address, ParseListen(listen));
  if (token.empty() && !IsLoopbackListenHost(address.host))
    return Status::Invalid("refusing to serve on " + listen +
                           " without a token: an address other than loopback (127.0.0.1, ::1, localhost) opens "
                           "ingest and queries to the network; set server.token_env to an environment variable "
                           "holding a token, or set server.listen (or --listen) to 127.0.0.1:PORT");
  return token;
}

}  // namespace sluice
