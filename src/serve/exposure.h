// Exposure: the start-up rule for who can reach `sluice run`'s HTTP server. Without a token the server only
// listens on loopback (127.0.0.0/8, ::1, localhost), since POST /ingest writes and /api/query reads the whole
// warehouse; a token_env naming an unset or empty variable is an error rather than a silent "no auth".
// Thread-safety: pure functions (ResolveServerToken reads the environment).
#pragma once

#include <string>
#include <string_view>

#include "core/config.h"
#include "core/status.h"

namespace sluice {

struct ListenAddress {
  std::string host;  // as given, IPv6 brackets removed; "" means every interface
  int port = 0;      // 0 picks a free port
};

// Splits a listen address: "host:port", "[v6]:port", or a bare port (on 127.0.0.1). Invalid for a port that
// is not a number in 0..65535.
Result<ListenAddress> ParseListen(const std::string& listen);

// Whether binding `host` accepts only local connections: localhost, an IPv4 address in 127.0.0.0/8, ::1
// (or ::ffff:127.x.x.x). Hostnames other than localhost, "", 0.0.0.0 and :: are not.
bool IsLoopbackListenHost(std::string_view host);

// The API token for serving on `listen` under `config` ("" for none), or Invalid, naming the config field,
// when server.token_env names an unset or empty variable, or when `listen` is not loopback and there is no
// token.
Result<std::string> ResolveServerToken(const Config& config, const std::string& listen);

}  // namespace sluice
