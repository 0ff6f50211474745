// FileSource: reads NDJSON records from files (plain, .gz or .zst): one file, a directory (its files, sorted)
// or a glob. Each file is a partition; the offset is the byte offset of a record's line (in decompressed
// bytes), so the checkpoint "file + byte offset" resumes exactly. Files are read in name order with runs of
// digits compared as numbers (part-9 before part-10), so numbered files need no zero padding. In follow mode
// it keeps reading files as they grow and picks up new files that match; a followed file is left for good
// once it stopped growing and a file after it in that order has appeared (writers move on to the next name).
// Thread-safety: driven by one thread; Stop() from any.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "sources/byte_reader.h"
#include "sources/source.h"

namespace sluice {

class FileSource : public Source {
 public:
  using Source::Source;

  Status Start(CheckpointReader checkpoints) override;
  Status Read(Batch& batch, RecordParser& parser, const BatchCut& cut, bool drain) override;
  bool Exhausted() const override { return exhausted_; }
  void Rejected(const Batch& batch) override;
  std::vector<std::string> Held() const override { return {config_->path}; }

  // The files the configured path names now, in NameOrder.
  static std::vector<std::string> Expand(const std::string& pattern);
  // File names with runs of digits compared as numbers: "live9" < "live10" < "live10b".
  static bool NameOrder(const std::string& a, const std::string& b);

 private:
  // Opens the next unfinished file; false when there is none right now.
  Result<bool> OpenNext();
  // Parses whole lines in the buffer into the batch; true when the batch became full.
  bool ConsumeLines(Batch& batch, RecordParser& parser, const BatchCut& cut, bool at_eof);

  CheckpointReader checkpoints_reader_;
  std::map<std::string, int64_t> checkpoints_;
  std::set<std::string> finished_;
  std::string current_;                  // the open file
  uint32_t current_partition_ = 0;
  std::unique_ptr<ByteReader> reader_;
  std::vector<char> buf_;
  size_t begin_ = 0, end_ = 0;           // unconsumed bytes are buf_[begin_, end_)
  int64_t buf_offset_ = 0;               // file offset of buf_[begin_]
  bool exhausted_ = false;
};

}  // namespace sluice
