#include "collect/warehouse_etag_cache.h"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/schema.h"

namespace sluice {

const char* const kHttpCacheTableSql = R"sql(
CREATE TABLE IF NOT EXISTS _sluice_http_cache (
  url VARCHAR PRIMARY KEY,     -- the absolute URL of the GET
  etag VARCHAR NOT NULL,       -- sent back as If-None-Match
  headers VARCHAR NOT NULL,    -- JSON [[name, value], ...]: only the response headers a 304 reuses
  body VARCHAR NOT NULL,       -- the 200's body, handed back on a 304
  body_bytes BIGINT NOT NULL,
  fetched_at TIMESTAMP NOT NULL
);
)sql";

namespace {

int64_t Micros(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

// A URL with a token in its query would put the token in the warehouse: such URLs are not cached.
bool Cacheable(const std::string& url) { return RedactUrl(url) == url; }

// Bodies cross the SQL boundary as string literals: text without NUL bytes (which would end the statement).
bool StorableText(const std::string& body) {
  return body.find('\0') == std::string::npos && simdjson::validate_utf8(body.data(), body.size());
}

}  // namespace

Status WarehouseEtagCache::Init() {
  const int64_t cutoff = Micros(options_.clock->Now() - options_.max_age);
  return access_([&](Warehouse& w) -> Status {
           RETURN_IF_ERROR(w.Execute(kHttpCacheTableSql));
           return w.Execute("DELETE FROM _sluice_http_cache WHERE fetched_at < make_timestamp(" +
                            std::to_string(cutoff) + ")");
         })
      .WithContext("preparing _sluice_http_cache");
}

std::optional<EtagCache::Entry> WarehouseEtagCache::Get(const std::string& url) {
  if (!Cacheable(url)) return std::nullopt;
  std::optional<Entry> out;
  Status st = access_([&](Warehouse& w) -> Status {
    auto q = w.Query("SELECT etag, headers, body FROM _sluice_http_cache WHERE url = " + QuoteLiteral(url));
    if (!q.ok()) return q.status();
    if (q->rows.empty()) return Status::Ok();
    const auto& row = q->rows[0];
    Entry e;
    e.etag = row[0].value_or("");
    e.body = row[2].value_or("");
    auto headers = nlohmann::json::parse(row[1].value_or("[]"), nullptr, false);
    if (headers.is_array()) {
      for (const auto& h : headers) {
        if (h.is_array() && h.size() == 2 && h[0].is_string() && h[1].is_string())
          e.headers.emplace_back(h[0].get<std::string>(), h[1].get<std::string>());
      }
    }
    if (!e.etag.empty()) out = std::move(e);
    return Status::Ok();
  });
  if (!st.ok()) {
    spdlog::warn("http cache: reading the entry for {}: {} (fetching in full)", RedactUrl(url),
                 st.message().substr(0, 300));
    return std::nullopt;
  }
  return out;
}

void WarehouseEtagCache::Put(const std::string& url, Entry entry) {
  if (!Cacheable(url)) return;
  const bool keep =
      entry.body.size() <= options_.max_body_bytes && StorableText(entry.body) && StorableText(entry.etag);
  std::string sql;
  if (keep) {
    nlohmann::json headers = nlohmann::json::array();
    for (const auto& [name, value] : entry.headers) {
      if (std::find(kHeadersReusedOn304.begin(), kHeadersReusedOn304.end(), name) != kHeadersReusedOn304.end() &&
          StorableText(value))
        headers.push_back({name, value});
    }
    sql = "INSERT OR REPLACE INTO _sluice_http_cache (url, etag, headers, body, body_bytes, fetched_at) VALUES (" +
          QuoteLiteral(url) + ", " + QuoteLiteral(entry.etag) + ", " + QuoteLiteral(headers.dump()) + ", " +
          QuoteLiteral(entry.body) + ", " + std::to_string(entry.body.size()) + ", make_timestamp(" +
          std::to_string(Micros(options_.clock->Now())) + "))";
  } else {
    spdlog::debug("http cache: not keeping {} ({} bytes; the limit is {} bytes of UTF-8 text)", RedactUrl(url),
                  entry.body.size(), options_.max_body_bytes);
    sql = "DELETE FROM _sluice_http_cache WHERE url = " + QuoteLiteral(url);
  }
  Status st = access_([&](Warehouse& w) { return w.Execute(sql); });
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
