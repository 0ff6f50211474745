// ContentDecoder: decodes a body sent with an HTTP Content-Encoding (identity, gzip, zstd) as it streams in,
// with a cap on the decoded size, so a small compressed body that expands to gigabytes (a "zip bomb") is
// refused after `max_output` bytes instead of filling memory.
// Thread-safety: one decoder per body; not shared between threads.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace sluice {

enum class ContentEncoding { kIdentity, kGzip, kZstd };

// The encoding a Content-Encoding header names: "" or "identity", "gzip" (or "x-gzip"), "zstd", any case,
// surrounding blanks ignored. nullopt for anything else (deflate, br, a list of several): the caller answers
// 415 Unsupported Media Type.
std::optional<ContentEncoding> ParseContentEncoding(std::string_view header);

class ContentDecoder {
 public:
  // A decoder for `encoding` that appends at most `max_output` decoded bytes to `*out` (which must outlive it).
  static std::unique_ptr<ContentDecoder> Create(ContentEncoding encoding, size_t max_output, std::string* out);
  virtual ~ContentDecoder() = default;

  // Decodes the next piece of the body into `*out`. Returns Invalid for corrupt input, and Invalid with
  // over_limit() true once the decoded size would pass `max_output` (nothing past the limit is kept).
  // Once it has failed, every later call returns the same error.
  virtual Status Feed(std::string_view input) = 0;
  // Call at the end of the body: Invalid when it stopped inside a compressed frame (a truncated upload).
  virtual Status Finish() = 0;
  // Whether the decoded body went past `max_output`.
  bool over_limit() const { return over_limit_; }

 protected:
  ContentDecoder(size_t max_output, std::string* out) : max_output_(max_output), out_(out) {}
  // Appends `n` decoded bytes, or sets over_limit() and fails when that would pass the limit.
  Status Emit(const char* data, size_t n);

  size_t max_output_;
  std::string* out_;
  size_t produced_ = 0;  // decoded bytes appended so far, never more than max_output_
  bool over_limit_ = false;
  Status error_;  // sticky: the first failure
};

// Decodes a whole body at once (tests, small payloads): the decoded bytes, or the error Feed/Finish gave.
Result<std::string> DecodeContent(ContentEncoding encoding, std::string_view body, size_t max_output);

}  // namespace sluice
