// The ingest route of `sluice run` (registered by Server):
//   POST /ingest/<stream>   the body is NDJSON whatever its Content-Type (curl's default form type, Python's,
//                           multipart: all read as raw bytes); Content-Encoding gzip or zstd is decoded, any
//                           other encoding is 415. Bodies arriving together share a batch (group commit);
//                           each is answered after that batch committed, with its own counts:
//                           {"batch_id":..,"loaded":n,"dead_lettered":n}; 413 when the body, decoded, passes the
//                           stream's http source max_body; 503 when the loader's queue is full, with Retry-After
//                           from the queue's drain rate; 404 for a stream without an http source.
// The body is decoded as it arrives, so memory stays within max_body even for a small gzip that inflates to
// gigabytes.
// Thread-safety: handlers run on the server's pool; Pipeline::Ingest is thread-safe.
#pragma once

#include <cstdint>

#include "batching/pipeline.h"
#include "core/config.h"

namespace httplib {
class Server;
}

namespace sluice {

// The decoded-body limit of `stream`: its http source's max_body (64 MiB when it has none).
int64_t StreamBodyLimit(const StreamConfig& stream);

// The largest body any http source accepts (64 MiB when there is none): the server reads no longer body.
int64_t MaxHttpBodyLimit(const Config& config);

// `config` and `pipeline` must outlive `server`'s handlers. `max_wire_bytes`: the server's cap on the bytes
// read off the socket (MaxHttpBodyLimit), enforced here too for chunked bodies, which carry no length.
void RegisterIngestRoute(httplib::Server& server, const Config& config, Pipeline& pipeline, int64_t max_wire_bytes);

}  // namespace sluice
