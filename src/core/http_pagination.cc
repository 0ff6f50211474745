#include "core/http_pagination.h"

#include <cctype>
#include <nlohmann/json.hpp>

namespace sluice {

std::optional<std::string> NextLinkUrl(const HttpResponse& response) {
  for (const auto& [name, value] : response.headers) {
    if (name != "link") continue;
    // <https://api.github.com/...&page=2>; rel="next", <...>; rel="last"
    size_t pos = 0;
    while ((pos = value.find('<', pos)) != std::string::npos) {
      size_t close = value.find('>', pos);
      if (close == std::string::npos) break;
      std::string target = value.substr(pos + 1, close - pos - 1);
      size_t next_link = value.find('<', close);
      std::string params = value.substr(close + 1, next_link == std::string::npos ? std::string::npos : next_link - close - 1);
      for (char& c : params) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (params.find("rel=\"next\"") != std::string::npos || params.find("rel=next") != std::string::npos) {
        return target;
      }
      pos = close;
    }
  }
  return std::nullopt;
}

std::optional<std::string> NextFieldUrl(std::string_view body, std::string_view field) {
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  const nlohmann::json* at = &doc;
  size_t start = 0;
  while (start <= field.size()) {
    size_t dot = field.find('.', start);
    std::string key(field.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (!at->is_object() || !at->contains(key)) return std::nullopt;
    at = &(*at)[key];
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (!at->is_string() || at->get_ref<const std::string&>().empty()) return std::nullopt;
  return at->get<std::string>();
}

PagedFetch FetchPages(HttpClient& client, const std::string& url, const PageOptions& options) {
  PagedFetch out;
  std::optional<std::string> next = url;
  while (next) {
    if (static_cast<int>(out.pages.size()) >= options.max_pages) {
      out.status = Status::Invalid("GET " + RedactUrl(url) + ": more than " + std::to_string(options.max_pages) +
                                   " pages");
      return out;
    }
    HttpResponse last;
    auto page = client.Get(*next, options.headers, &last);
    if (!page.ok()) {
      out.status = page.status();
      if (last.status != 0) out.failed = std::move(last);
      return out;
    }
    if (!page->ok()) {
      out.status = HttpError(*page);
      out.failed = std::move(*page);
      return out;
    }
    switch (options.style) {
      case Pagination::kNone: next.reset(); break;
      case Pagination::kLinkHeader: next = NextLinkUrl(*page); break;
      case Pagination::kNextField: next = NextFieldUrl(page->body, options.next_field); break;
    }
    out.pages.push_back(std::move(*page));
  }
  return out;
}

Result<std::vector<HttpResponse>> FetchAllPages(HttpClient& client, const std::string& url,
                                                const PageOptions& options) {
  PagedFetch f = FetchPages(client, url, options);
  if (!f.status.ok()) return f.status;
  return std::move(f.pages);
}

}  // namespace sluice
