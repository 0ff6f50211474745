#include "sources/file_source.h"

#include <glob.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "core/time.h"

namespace sluice {
namespace {
constexpr size_t kChunk = 4 << 20;
constexpr size_t kPad = simdjson::SIMDJSON_PADDING;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
}  // namespace

bool FileSource::NameOrder(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (IsDigit(a[i]) && IsDigit(b[j])) {
      // Compare the whole runs of digits as numbers: leading zeros skipped, then longer is larger.
      size_t ie = i, je = j;
      while (ie < a.size() && IsDigit(a[ie])) ++ie;
      while (je < b.size() && IsDigit(b[je])) ++je;
      size_t is = i, js = j;
      while (is + 1 < ie && a[is] == '0') ++is;
      while (js + 1 < je && b[js] == '0') ++js;
      if (ie - is != je - js) return ie - is < je - js;
      if (int c = a.compare(is, ie - is, b, js, je - js); c != 0) return c < 0;
      i = ie;
      j = je;
      continue;
    }
    if (a[i] != b[j]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]);
    ++i;
    ++j;
  }
  if (a.size() - i != b.size() - j) return a.size() - i < b.size() - j;
  return a < b;  // equal as numbers ("07" and "7"): any fixed order
}

std::vector<std::string> FileSource::Expand(const std::string& pattern) {
  std::vector<std::string> files;
  std::error_code ec;
  if (std::filesystem::is_directory(pattern, ec)) {
    for (const auto& e : std::filesystem::directory_iterator(pattern, ec))
      if (e.is_regular_file()) files.push_back(std::filesystem::absolute(e.path()).lexically_normal().string());
  } else {
    glob_t g{};
    if (::glob(pattern.c_str(), 0, nullptr, &g) == 0)
      for (size_t i = 0; i < g.gl_pathc; ++i)
        if (std::filesystem::is_regular_file(g.gl_pathv[i], ec))
          files.push_back(std::filesystem::absolute(g.gl_pathv[i]).lexically_normal().string());
    globfree(&g);
  }
  std::sort(files.begin(), files.end(), NameOrder);
  return files;
}

Status FileSource::Start(CheckpointReader checkpoints) {
  checkpoints_reader_ = std::move(checkpoints);
  ASSIGN_OR_RETURN(checkpoints_, checkpoints_reader_(name()));
  if (!config_->follow && Expand(config_->path).empty())
    return Status::Invalid("source " + name() + ": no file matches '" + config_->path + "'");
  buf_.resize(kChunk + kPad);
  return Status::Ok();
}

void FileSource::Rejected(const Batch&) {
  // Someone else loaded these positions: forget where we were and resume from the warehouse.
  reader_.reset();
  current_.clear();
  finished_.clear();
  begin_ = end_ = 0;
  auto cp = checkpoints_reader_(name());
  if (cp.ok()) checkpoints_ = *cp;
}

Result<bool> FileSource::OpenNext() {
  for (const auto& f : Expand(config_->path)) {
    if (finished_.count(f)) continue;
    int64_t offset = 0;
    if (auto it = checkpoints_.find(f); it != checkpoints_.end()) offset = it->second;
    auto r = ByteReader::Open(f, offset);
    if (!r.ok()) return r.status().WithContext("source " + name());
    reader_ = std::move(*r);
    current_ = f;
    begin_ = end_ = 0;
    buf_offset_ = offset;
    return true;
  }
  return false;
}

bool FileSource::ConsumeLines(Batch& batch, RecordParser& parser, const BatchCut& cut, bool at_eof) {
  while (begin_ < end_) {
    const char* start = buf_.data() + begin_;
    const char* nl = static_cast<const char*>(std::memchr(start, '\n', end_ - begin_));
    size_t line_len;
    size_t consumed;
    if (nl) {
      line_len = nl - start;
      consumed = line_len + 1;
    } else if (at_eof) {
      line_len = consumed = end_ - begin_;  // a last line without its newline
    } else {
      return false;  // wait for the rest of the line
    }
    std::string_view line(start, line_len);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    int64_t offset = buf_offset_;
    begin_ += consumed;
    buf_offset_ += static_cast<int64_t>(consumed);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;  // blank lines are not records
    if (batch.empty()) current_partition_ = batch.PartitionIndex(current_);
    else if (batch.partition_names[current_partition_] != current_) current_partition_ = batch.PartitionIndex(current_);
    batch.landing_data.append(line);
    batch.landing_data += '\n';
    // Lines inside the buffer are followed by at least kPad readable bytes.
    parser.Parse(line, current_partition_, offset, buf_offset_, batch, true);
    if (cut.Full(batch)) return true;
  }
  return false;
}

Status FileSource::Read(Batch& batch, RecordParser& parser, const BatchCut& cut, bool drain) {
  if (buf_.empty()) buf_.resize(kChunk + kPad);
  const int64_t deadline = cut.Deadline(batch);
  while (!stopping_) {
    if (!reader_) {
      ASSIGN_OR_RETURN(bool opened, OpenNext());
      if (!opened) {
        if (!config_->follow || drain) {
          exhausted_ = true;
          return Status::Ok();
        }
        if (NowMicros() >= deadline) return Status::Ok();
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
    }
    if (ConsumeLines(batch, parser, cut, false)) return Status::Ok();
    // Keep the partial line, make room, read more.
    if (begin_ > 0) {
      std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (end_ + kPad >= buf_.size()) buf_.resize(buf_.size() * 2);  // a line longer than the buffer
    ASSIGN_OR_RETURN(size_t n, reader_->Read(buf_.data() + end_, buf_.size() - kPad - end_));
    end_ += n;
    if (n > 0) {
      if (NowMicros() >= deadline && !batch.empty()) {
        ConsumeLines(batch, parser, cut, false);
        return Status::Ok();
      }
      continue;
    }
    // At the end of the file as it is now.
    if (!config_->follow) {
      ConsumeLines(batch, parser, cut, true);
      if (begin_ < end_) return Status::Ok();  // batch filled before the tail; continue next call
      finished_.insert(current_);
      reader_.reset();
      if (cut.Full(batch)) return Status::Ok();
      continue;
    }
    // Follow mode: a file that stopped growing may be followed by a newer one.
    bool newer = false;
    for (const auto& f : Expand(config_->path)) newer |= (NameOrder(current_, f) && !finished_.count(f));
    if (newer && begin_ == end_) {
      finished_.insert(current_);
      reader_.reset();
      continue;
    }
    if (drain) {
      exhausted_ = true;
      return Status::Ok();
    }
    if (NowMicros() >= deadline) return Status::Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Status::Ok();
}

}  // namespace sluice
