#include "core/content_decoder.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cctype>

namespace sluice {
namespace {

// Decoded bytes are produced a buffer at a time, so the limit is checked before a buffer is kept, never after
// a whole body was inflated.
constexpr size_t kChunk = 64 * 1024;

class IdentityDecoder : public ContentDecoder {
 public:
  IdentityDecoder(size_t max_output, std::string* out) : ContentDecoder(max_output, out) {}
  Status Feed(std::string_view input) override {
    if (!error_.ok()) return error_;
    return Emit(input.data(), input.size());
  }
  Status Finish() override { return error_; }
};

class GzipDecoder : public ContentDecoder {
 public:
  GzipDecoder(size_t max_output, std::string* out) : ContentDecoder(max_output, out) {
    // 16 + MAX_WBITS: a gzip wrapper (header and CRC checked), not a raw or zlib stream.
    if (inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK) error_ = Status::Internal("gzip: cannot initialise zlib");
  }
  ~GzipDecoder() override { inflateEnd(&z_); }

  Status Feed(std::string_view input) override {
    if (!error_.ok()) return error_;
    if (input.empty()) return Status::Ok();
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    z_.avail_in = static_cast<uInt>(input.size());
    char buf[kChunk];
    // Until the input is consumed and zlib holds no more output (a full buffer means there may be more).
    do {
      if (member_done_) {
        if (z_.avail_in == 0) break;
        // `cat a.gz b.gz` is a valid body of several members (RFC 1952): start the next one.
        inflateReset(&z_);
        member_done_ = false;
      }
      in_member_ = true;
      z_.next_out = reinterpret_cast<Bytef*>(buf);
      z_.avail_out = sizeof buf;
      int rc = inflate(&z_, Z_NO_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)  // Z_BUF_ERROR: needs more input, not fatal
        return error_ = Status::Invalid(std::string("gzip: ") + (z_.msg ? z_.msg : "corrupt data"));
      RETURN_IF_ERROR(Emit(buf, sizeof buf - z_.avail_out));
      if (rc == Z_STREAM_END) {
        member_done_ = true;
        in_member_ = false;
      }
    } while (z_.avail_in > 0 || z_.avail_out == 0);
    return Status::Ok();
  }

  Status Finish() override {
    if (!error_.ok()) return error_;
    if (in_member_) return error_ = Status::Invalid("gzip: the body ends inside a compressed stream (truncated?)");
    return Status::Ok();
  }

 private:
  z_stream z_{};
  bool in_member_ = false;    // bytes of a member were fed and its end not yet seen
  bool member_done_ = false;  // the last member ended; more input starts a new one
};

class ZstdDecoder : public ContentDecoder {
 public:
  ZstdDecoder(size_t max_output, std::string* out) : ContentDecoder(max_output, out), ds_(ZSTD_createDStream()) {
    if (!ds_) error_ = Status::Internal("zstd: cannot create a decompression stream");
  }
  ~ZstdDecoder() override { ZSTD_freeDStream(ds_); }

  Status Feed(std::string_view input) override {
    if (!error_.ok()) return error_;
    ZSTD_inBuffer in{input.data(), input.size(), 0};
    char buf[kChunk];
    // Loop until the input is consumed and the last call left its output buffer not full (nothing held back).
    while (true) {
      ZSTD_outBuffer o{buf, sizeof buf, 0};
      size_t rc = ZSTD_decompressStream(ds_, &o, &in);
      if (ZSTD_isError(rc)) return error_ = Status::Invalid(std::string("zstd: ") + ZSTD_getErrorName(rc));
      RETURN_IF_ERROR(Emit(buf, o.pos));
      pending_ = rc;
      fed_ = fed_ || input.size() > 0;
      if (in.pos == in.size && o.pos < o.size) break;
    }
    return Status::Ok();
  }

  Status Finish() override {
    if (!error_.ok()) return error_;
    // ZSTD_decompressStream returns 0 exactly when a frame is complete and flushed.
    if (fed_ && pending_ != 0)
      return error_ = Status::Invalid("zstd: the body ends inside a compressed frame (truncated?)");
    return Status::Ok();
  }

 private:
  ZSTD_DStream* ds_;
  size_t pending_ = 0;
  bool fed_ = false;
};

}  // namespace

std::optional<ContentEncoding> ParseContentEncoding(std::string_view header) {
  while (!header.empty() && std::isspace(static_cast<unsigned char>(header.front()))) header.remove_prefix(1);
  while (!header.empty() && std::isspace(static_cast<unsigned char>(header.back()))) header.remove_suffix(1);
  std::string e(header);
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return std::tolower(c); });
  if (e.empty() || e == "identity") return ContentEncoding::kIdentity;
  if (e == "gzip" || e == "x-gzip") return ContentEncoding::kGzip;
  if (e == "zstd") return ContentEncoding::kZstd;
  return std::nullopt;
}

Status ContentDecoder::Emit(const char* data, size_t n) {
  if (n > max_output_ - produced_) {
    over_limit_ = true;
    return error_ = Status::Invalid("the decoded body is over the limit of " + std::to_string(max_output_) + " bytes");
  }
  out_->append(data, n);
  produced_ += n;
  return Status::Ok();
}

std::unique_ptr<ContentDecoder> ContentDecoder::Create(ContentEncoding encoding, size_t max_output, std::string* out) {
  switch (encoding) {
    case ContentEncoding::kGzip:
      return std::make_unique<GzipDecoder>(max_output, out);
    case ContentEncoding::kZstd:
      return std::make_unique<ZstdDecoder>(max_output, out);
    case ContentEncoding::kIdentity:
      break;
  }
  return std::make_unique<IdentityDecoder>(max_output, out);
}

Result<std::string> DecodeContent(ContentEncoding encoding, std::string_view body, size_t max_output) {
  std::string out;
  auto decoder = ContentDecoder::Create(encoding, max_output, &out);
  RETURN_IF_ERROR(decoder->Feed(body));
  RETURN_IF_ERROR(decoder->Finish());
  return out;
}

}  // namespace sluice
