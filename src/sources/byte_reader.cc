#include "sources/byte_reader.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace sluice {
namespace {

bool EndsWith(const std::string& s, const char* suffix) {
  size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

class PlainReader : public ByteReader {
 public:
  explicit PlainReader(int fd) : fd_(fd) {}
  ~PlainReader() override { ::close(fd_); }
  Result<size_t> Read(char* out, size_t n) override {
    for (;;) {
      ssize_t r = ::read(fd_, out, n);
      if (r >= 0) return static_cast<size_t>(r);
      if (errno != EINTR) return Status::Io(std::string("read: ") + std::strerror(errno));
    }
  }

 private:
  int fd_;
};

class GzipReader : public ByteReader {
 public:
  explicit GzipReader(gzFile f) : f_(f) { gzbuffer(f_, 1 << 20); }
  ~GzipReader() override { gzclose(f_); }
  Result<size_t> Read(char* out, size_t n) override {
    int r = gzread(f_, out, static_cast<unsigned>(n));
    if (r < 0) {
      int err;
      return Status::Io(std::string("gzip: ") + gzerror(f_, &err));
    }
    return static_cast<size_t>(r);
  }

 private:
  gzFile f_;
};

class ZstdReader : public ByteReader {
 public:
  explicit ZstdReader(int fd) : fd_(fd), ds_(ZSTD_createDStream()), in_buf_(ZSTD_DStreamInSize()) {}
  ~ZstdReader() override {
    ZSTD_freeDStream(ds_);
    ::close(fd_);
  }
  Result<size_t> Read(char* out, size_t n) override {
    for (;;) {
      if (in_.pos == in_.size) {
        ssize_t r = ::read(fd_, in_buf_.data(), in_buf_.size());
        if (r < 0) return Status::Io(std::string("read: ") + std::strerror(errno));
        if (r == 0) return size_t{0};
        in_ = {in_buf_.data(), static_cast<size_t>(r), 0};
      }
      ZSTD_outBuffer o{out, n, 0};
      size_t r = ZSTD_decompressStream(ds_, &o, &in_);
      if (ZSTD_isError(r)) return Status::Io(std::string("zstd: ") + ZSTD_getErrorName(r));
      if (o.pos > 0) return o.pos;
    }
  }

 private:
  int fd_;
  ZSTD_DStream* ds_;
  std::vector<char> in_buf_;
  ZSTD_inBuffer in_{nullptr, 0, 0};
};

}  // namespace

Result<std::unique_ptr<ByteReader>> ByteReader::Open(const std::string& path, int64_t offset) {
  std::unique_ptr<ByteReader> reader;
  if (EndsWith(path, ".gz")) {
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f) return Status::Io("cannot open " + path + ": " + std::strerror(errno));
    reader = std::make_unique<GzipReader>(f);
  } else {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::Io("cannot open " + path + ": " + std::strerror(errno));
    if (!EndsWith(path, ".zst")) {
      if (::lseek(fd, offset, SEEK_SET) < 0) {
        ::close(fd);
        return Status::Io("cannot seek " + path);
      }
      return std::unique_ptr<ByteReader>(new PlainReader(fd));
    }
    reader = std::make_unique<ZstdReader>(fd);
  }
  // Compressed streams cannot seek: decompress and discard up to the checkpoint.
  std::vector<char> skip(1 << 20);
  while (offset > 0) {
    ASSIGN_OR_RETURN(size_t n, reader->Read(skip.data(), std::min<size_t>(skip.size(), offset)));
    if (n == 0) return Status::Invalid(path + " is shorter than its checkpoint");
    offset -= static_cast<int64_t>(n);
  }
  return reader;
}

}  // namespace sluice
