#include "collect/warehouse_etag_cache.h"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/schema.h"

namespace sluice {

namespace {

int64_t Micros(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

// A URL with a token in its query would put the token in the warehouse: such URLs are not cached.
bool Cacheable(const std::string& url) { return RedactUrl(url) == url; }

// The warehouse keeps text (PutHttpCache): UTF-8 without NUL bytes.
bool StorableText(const std::string& body) {
  return body.find('\0') == std::string::npos && simdjson::validate_utf8(body.data(), body.size());
}

}  // namespace

Status WarehouseEtagCache::Init() {
  const int64_t cutoff = Micros(options_.clock->Now() - options_.max_age);
  return access_([&](Warehouse& w) { return w.ExpireHttpCache(cutoff); }).WithContext("expiring _sluice_http_cache");
}

std::optional<EtagCache::Entry> WarehouseEtagCache::Get(const std::string& url) {
  if (!Cacheable(url)) return std::nullopt;
  std::optional<HttpCacheEntry> stored;
  Status st = access_([&](Warehouse& w) -> Status {
    ASSIGN_OR_RETURN(stored, w.GetHttpCache(url));
    return Status::Ok();
  });
  if (!st.ok()) {
    spdlog::warn("http cache: reading the entry for {}: {} (fetching in full)", RedactUrl(url),
                 st.message().substr(0, 300));
    return std::nullopt;
  }
  if (!stored || stored->etag.empty()) return std::nullopt;
  Entry e;
  e.etag = std::move(stored->etag);
  e.body = std::move(stored->body);
  e.headers = std::move(stored->headers);
  return e;
}

void WarehouseEtagCache::Put(const std::string& url, Entry entry) {
  if (!Cacheable(url)) return;
  const bool keep =
      entry.body.size() <= options_.max_body_bytes && StorableText(entry.body) && StorableText(entry.etag);
  Status st;
  if (keep) {
    HttpCacheEntry stored{url, std::move(entry.etag), {}, std::move(entry.body), Micros(options_.clock->Now())};
    for (auto& [name, value] : entry.headers)
      if (std::find(kHeadersReusedOn304.begin(), kHeadersReusedOn304.end(), name) != kHeadersReusedOn304.end() &&
          StorableText(value))
        stored.headers.emplace_back(name, value);
    st = access_([&](Warehouse& w) { return w.PutHttpCache(stored); });
  } else {
    spdlog::debug("http cache: not keeping {} ({} bytes; the limit is {} bytes of UTF-8 text)", RedactUrl(url),
                  entry.body.size(), options_.max_body_bytes);
    st = access_([&](Warehouse& w) { return w.DropHttpCache(url); });
  }
  if (!st.ok()) spdlog::warn("http cache: storing the entry for {}: {}", RedactUrl(url), st.message().substr(0, 300));
}

std::shared_ptr<EtagCache> MakePersistentEtagCache(WarehouseAccess access) {
  auto cache = std::make_shared<WarehouseEtagCache>(std::move(access));
  if (Status st = cache->Init(); !st.ok()) {
    spdlog::warn("{}; conditional requests will not outlive this process", st.message());
    return std::make_shared<MemoryEtagCache>();
  }
  return cache;
}

}  // namespace sluice
