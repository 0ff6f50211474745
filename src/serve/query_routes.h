// The query routes of `sluice run` (registered by Server):
//   GET|POST /api/query     sql=... (or the POST body) &format=json|csv|table; one read-only statement.
//   GET /api/export.csv     sql=...; the same as CSV, as a download.
// Queries run on the warehouse's readers, never on the loader's connection.
// Thread-safety: handlers run on the server's pool.
#pragma once

#include "batching/pipeline.h"

namespace httplib {
class Server;
}

namespace sluice {

// `pipeline` must outlive `server`'s handlers.
void RegisterQueryRoutes(httplib::Server& server, Pipeline& pipeline);

}  // namespace sluice
