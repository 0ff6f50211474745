// WarehouseEtagCache: the EtagCache that outlives the process, on the warehouse's HTTP cache
// (`_sluice_http_cache`). A `sluice collect` started by cron every day is a new process; with this cache it
// still sends yesterday's ETag in If-None-Match, and a 304 (which GitHub does not count against the rate
// limit) reuses yesterday's body (issue 4). `sluice run`'s scheduler uses the same table.
//
// What it keeps, one row per URL, replaced by each newer 200: the ETag, the body, when it was fetched, and
// only the response headers a 304 reuses (kHeadersReusedOn304: content-type, link). Never request headers,
// so never a token; a URL whose query carries a token-like parameter (RedactUrl changes it) is not cached.
// Bounded: a body over `max_body_bytes` (4 MiB by default) or that is not UTF-8 text is not kept (its URL
// is then fetched in full each run, as with no cache), and Init drops entries fetched more than `max_age`
// (30 days) ago, so URLs that change every run (a templated date) do not pile up.
// A cache is an optimisation: a warehouse error never fails a request. Get answers a miss and Put drops
// the entry, each with a warning.
// Thread-safety: as safe as the WarehouseAccess. DirectWarehouseAccess and Pipeline::WithWarehouse both
// serialise, so HttpClient::Send may use the cache from several threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "collect/warehouse_run_ledger.h"
#include "core/clock.h"
#include "core/http_client.h"

namespace sluice {

struct WarehouseEtagCacheOptions {
  size_t max_body_bytes = size_t{4} << 20;  // larger bodies are not kept
  std::chrono::hours max_age{24 * 30};      // Init drops entries fetched longer ago
  Clock* clock = Clock::Real();             // stamps fetched_at
};

class WarehouseEtagCache final : public EtagCache {
 public:
  explicit WarehouseEtagCache(WarehouseAccess access, WarehouseEtagCacheOptions options = {})
      : access_(std::move(access)), options_(options) {}

  // Drops entries older than max_age; call once before use.
  Status Init();

  // The entry stored for `url`, or nullopt when there is none, the URL is not cacheable, or the warehouse
  // failed (logged).
  std::optional<Entry> Get(const std::string& url) override;
  // Replaces the entry for `url` with `entry` (its headers cut to kHeadersReusedOn304). A body that may not
  // be kept (too large, not UTF-8) removes the older entry instead, so a stale ETag is not sent again.
  void Put(const std::string& url, Entry entry) override;

 private:
  WarehouseAccess access_;
  WarehouseEtagCacheOptions options_;
};

// A WarehouseEtagCache on `access`, initialised. When the table cannot be prepared, a MemoryEtagCache (logged):
// conditional requests are an optimisation, not a reason to fail a run.
std::shared_ptr<EtagCache> MakePersistentEtagCache(WarehouseAccess access);

}  // namespace sluice
