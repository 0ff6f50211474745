// Files compiled into the binary at build time (cmake/embed_files.cmake): the dashboard page and its
// charting library, and the demo's dashboards, so `sluice` needs no source tree at run time.
// Immutable; thread-safe.
#pragma once

#include <string_view>
#include <vector>

namespace sluice {

struct EmbeddedFile {
  std::string_view name;  // e.g. "app.js"
  std::string_view data;
};

// The dashboard page's assets (web/*.html|js|css and Chart.js as chart.umd.js).
const std::vector<EmbeddedFile>& WebAssets();

// The file named `name` in `files`, or null.
const EmbeddedFile* FindEmbeddedFile(const std::vector<EmbeddedFile>& files, std::string_view name);

// The Content-Type to serve a file named `name` with, by its extension.
const char* ContentTypeOf(std::string_view name);

}  // namespace sluice
