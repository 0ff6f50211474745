#include "serve/raw_body.h"

#include <httplib.h>

namespace sluice {

bool ReadRawBody(const httplib::Request& req, const httplib::ContentReader& reader,
                 const std::function<bool(const char*, size_t)>& receiver) {
  // `req` is the server's own Request, mutable: httplib only hands handlers a const view of it.
  auto& raw = const_cast<httplib::Request&>(req);
  raw.headers.erase("Content-Type");
  raw.headers.erase("Content-Encoding");
  return reader([&receiver](const char* data, size_t n) { return receiver(data, n); });
}

void DrainBody(const httplib::Request& req, const httplib::ContentReader& reader, int64_t max_bytes) {
  int64_t read = 0;
  ReadRawBody(req, reader, [&read, max_bytes](const char*, size_t n) {
    read += static_cast<int64_t>(n);
    return read <= max_bytes;
  });
}

}  // namespace sluice
