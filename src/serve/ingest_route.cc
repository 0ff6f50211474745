#include "serve/ingest_route.h"

#include <httplib.h>

#include <algorithm>
#include <string>

#include "core/content_decoder.h"
#include "core/record_parser.h"
#include "serve/json_error.h"
#include "serve/raw_body.h"

namespace sluice {
namespace {

constexpr int64_t kDefaultMaxBody = 64LL << 20;

const SourceConfig* HttpSource(const StreamConfig* stream) {
  const SourceConfig* http = nullptr;
  if (stream)
    for (const auto& sc : stream->sources)
      if (sc.kind == "http") http = &sc;  // the last one, as Pipeline::Ingest picks it
  return http;
}

void Answer(httplib::Response& res, const Result<IngestReport>& r, Pipeline& pipeline) {
  if (!r.ok()) {
    if (r.status().IsNotFound()) return SendJsonError(res, 404, r.status().message());
    if (r.status().IsRetry()) {
      // When the queue will have room, at the rate the loader has been emptying it.
      res.set_header("Retry-After", std::to_string(pipeline.RetryAfterSeconds()));
      return SendJsonError(res, 503, r.status().message());
    }
    return SendJsonError(res, 500, r.status().message());
  }
  std::string body = "{\"batch_id\":";
  AppendJsonString(body, r->batch_id);
  body += ",\"loaded\":" + std::to_string(r->loaded) + ",\"dead_lettered\":" + std::to_string(r->dead) + "}\n";
  res.set_content(body, "application/json");
}

}  // namespace

int64_t StreamBodyLimit(const StreamConfig& stream) {
  const SourceConfig* http = HttpSource(&stream);
  return http ? http->max_body_bytes : kDefaultMaxBody;
}

int64_t MaxHttpBodyLimit(const Config& config) {
  int64_t limit = 0;
  for (const auto& s : config.streams)
    for (const auto& sc : s.sources)
      if (sc.kind == "http") limit = std::max(limit, sc.max_body_bytes);
  return limit > 0 ? limit : kDefaultMaxBody;
}

void RegisterIngestRoute(httplib::Server& srv, const Config& config, Pipeline& pipeline, int64_t max_wire_bytes) {
  // A content-reader handler: httplib's plain handlers read the body first and, for a form Content-Type, cap
  // it at 8 KB (a 413 for Python's urllib) and parse it as a form.
  srv.Post(R"(/ingest/([A-Za-z0-9_]+))", [&config, &pipeline, max_wire_bytes](const httplib::Request& req,
                                                                              httplib::Response& res,
                                                                              const httplib::ContentReader& reader) {
    const std::string stream = req.matches[1];
    // Read before ReadRawBody takes the header off.
    const std::string encoding_header = req.get_header_value("Content-Encoding");
    const SourceConfig* http = HttpSource(config.FindStream(stream));
    if (!http) {
      DrainBody(req, reader, max_wire_bytes);
      return SendJsonError(res, 404, "no stream '" + stream + "' with an http source");
    }
    std::optional<ContentEncoding> encoding = ParseContentEncoding(encoding_header);
    if (!encoding) {
      DrainBody(req, reader, max_wire_bytes);
      return SendJsonError(
          res, 415, "Content-Encoding '" + encoding_header + "' is not supported: send the body as is, gzip or zstd");
    }
    const int64_t limit = http->max_body_bytes;
    std::string body;
    auto decoder = ContentDecoder::Create(*encoding, static_cast<size_t>(limit), &body);
    Status decoded;
    int64_t wire = 0;
    bool read = ReadRawBody(req, reader, [&](const char* data, size_t n) {
      wire += static_cast<int64_t>(n);
      if (wire > max_wire_bytes) return false;  // a chunked body past the server's cap: stop reading it
      if (decoded.ok()) decoded = decoder->Feed(std::string_view(data, n));
      return true;  // after a failure, keep reading (and dropping) so the connection stays usable
    });
    if (!read && (res.status == 413 || wire > max_wire_bytes))
      return SendJsonError(
          res, 413,
          "body" +
              (req.has_header("Content-Length") ? " of " + req.get_header_value("Content-Length") + " bytes"
                                                : std::string()) +
              " is over the server's limit of " + std::to_string(max_wire_bytes) +
              " bytes (the largest max_body of an http source)");
    if (!read) return SendJsonError(res, 400, "the request body could not be read");
    if (decoded.ok()) decoded = decoder->Finish();
    if (decoder->over_limit())
      return SendJsonError(res, 413,
                           std::string(*encoding == ContentEncoding::kIdentity ? "body" : "decoded body") +
                               " is over the limit of " + std::to_string(limit) + " bytes of stream '" + stream +
                               "' (its http source's max_body)");
    if (!decoded.ok()) return SendJsonError(res, 400, decoded.message());
    Answer(res, pipeline.Ingest(stream, body), pipeline);
  });
}

}  // namespace sluice
