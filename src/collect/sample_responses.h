// The bundled sample API responses (src/collect/testdata: SAMPLE DATA, invented names and numbers), served
// on loopback by the demo and the tests so collectors run with no token and no network.
// Pure function; thread-safe.
#pragma once

#include <string>

namespace sluice {

// The sample response file `name` (relative to src/collect/testdata) with every "{{base_url}}" replaced by
// `base_url`, so links and `next` pages point back at the loopback server. Empty when the file is missing.
std::string SampleResponse(const std::string& name, const std::string& base_url);

}  // namespace sluice
