// Pagination over HttpClient: follow `Link: <...>; rel="next"` headers (GitHub) or a `next` URL field in
// a JSON body (Docker Hub, Django REST-style APIs) until the last page.
// Thread-safety: free functions; as safe as the HttpClient passed in.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/http_client.h"
#include "core/status.h"

namespace sluice {

// The rel="next" target of a response's Link header(s), or nullopt on the last page.
std::optional<std::string> NextLinkUrl(const HttpResponse& response);

// The string at `field` (dotted path, e.g. "next" or "links.next") of a JSON object body; nullopt when
// absent, null, empty or not a string (how APIs say "last page").
std::optional<std::string> NextFieldUrl(std::string_view body, std::string_view field = "next");

enum class Pagination { kNone, kLinkHeader, kNextField };

struct PageOptions {
  Pagination style = Pagination::kLinkHeader;
  std::string next_field = "next";  // for kNextField
  int max_pages = 1000;             // a guard against APIs that loop; reaching it is an error
  HttpHeaders headers;              // sent with every page's GET (GitHub's Accept and API version)
};

// What a paginated fetch got: the pages that were ok, in order, and, when it stopped early, why (`status`)
// and the response that stopped it (not ok, or the last one received before retries gave up), if any.
struct PagedFetch {
  std::vector<HttpResponse> pages;
  Status status;
  std::optional<HttpResponse> failed;
};

// GETs `url` and every following page, in order, keeping what it got when a page fails.
PagedFetch FetchPages(HttpClient& client, const std::string& url, const PageOptions& options = {});

// GETs `url` and every following page, in order. Each page must be ok() (see HttpError otherwise).
Result<std::vector<HttpResponse>> FetchAllPages(HttpClient& client, const std::string& url,
                                                const PageOptions& options = {});

}  // namespace sluice
