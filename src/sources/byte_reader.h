// ByteReader: reads a file's bytes, decompressing .gz and .zst on the fly, from a given offset (an offset in
// the decompressed bytes). Growing plain files can be read again past a previous end (follow mode).
// Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"

namespace sluice {

class ByteReader {
 public:
  virtual ~ByteReader() = default;
  // Opens `path` (compression from its extension) positioned at `offset`.
  static Result<std::unique_ptr<ByteReader>> Open(const std::string& path, int64_t offset);
  // Reads up to `n` bytes into `out`; 0 at the current end of the file.
  virtual Result<size_t> Read(char* out, size_t n) = 0;
};

}  // namespace sluice
