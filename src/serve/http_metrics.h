// HTTP metrics of `sluice run`: every answered request counts in sluice_http_requests_total{route,code} and
// is timed in the sluice_http_request_seconds{route} histogram. `route` is the route's pattern
// ("/ingest/<stream>"), never the raw path, so a client cannot grow the series without bound.
// Thread-safety: pure functions over a thread-safe Metrics.
#pragma once

#include <string>

#include "core/metrics.h"

namespace sluice {

// The pattern of the route serving `path` ("/api/dashboards/<name>/charts/<i>"), or "other".
std::string RouteLabel(const std::string& path);

// Counts one answered request and, when `seconds` >= 0, times it.
void RecordHttpRequest(Metrics& metrics, const std::string& path, int code, double seconds);

}  // namespace sluice
