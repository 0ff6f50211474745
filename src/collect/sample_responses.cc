#include "collect/sample_responses.h"

#include <fstream>
#include <sstream>

namespace sluice {

std::string SampleResponse(const std::string& name, const std::string& base_url) {
  std::ifstream in(std::string(SLUICE_SOURCE_DIR) + "/src/collect/testdata/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  for (size_t at; (at = s.find("{{base_url}}")) != std::string::npos;) s.replace(at, 12, base_url);
  return s;
}

}  // namespace sluice
