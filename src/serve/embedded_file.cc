#include "serve/embedded_file.h"

namespace sluice {

const EmbeddedFile* FindEmbeddedFile(const std::vector<EmbeddedFile>& files, std::string_view name) {
  for (const EmbeddedFile& f : files)
    if (f.name == name) return &f;
  return nullptr;
}

const char* ContentTypeOf(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".yaml")) return "application/yaml";
  return "application/octet-stream";
}

}  // namespace sluice
