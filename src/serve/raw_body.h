// ReadRawBody: reads a request body off the socket exactly as sent, for content-reader routes.
// httplib's reader would split a multipart/form-data body into parts (and call a part handler the caller
// does not have) and inflate gzip/deflate/br on its own, without a bound on the inflated size; the body's
// meaning is the route's business, so both headers are taken off the request before reading.
// Thread-safety: touches only the request it is given, on the thread serving it.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

namespace httplib {
struct Request;
class ContentReader;
}  // namespace httplib

namespace sluice {

// Feeds the body, piece by piece, to `receiver` (false stops reading). Returns false when reading stopped
// before the end: `receiver` said so, the client went away, or httplib refused the length (it then set the
// response to 413). The request's Content-Type and Content-Encoding headers are removed.
bool ReadRawBody(const httplib::Request& req, const httplib::ContentReader& reader,
                 const std::function<bool(const char*, size_t)>& receiver);

// Reads and drops up to `max_bytes` of the body, so that a connection kept alive after an early answer
// resumes at the next request rather than parsing the rest of this body as one.
void DrainBody(const httplib::Request& req, const httplib::ContentReader& reader, int64_t max_bytes);

}  // namespace sluice
