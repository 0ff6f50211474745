// FileSource's file order: numbered files are read in number order, so a followed folder that receives
// part-9 and then part-10 reads both (in plain name order part-10 sorts before part-9, and a follower sitting
// on part-9 would never see a "newer" file again).
#include "sources/file_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "core/config.h"
#include "core/record_parser.h"
#include "core/time.h"

namespace sluice {
namespace {

TEST(FileSourceNameOrder, DigitRunsCompareAsNumbers) {
  std::vector<std::string> names = {"live10", "live2", "live9", "live1", "live0", "live11", "b", "a", "live10b"};
  std::sort(names.begin(), names.end(), FileSource::NameOrder);
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "live0", "live1", "live2", "live9", "live10", "live10b",
                                             "live11"}));
  // Dates and zero-padded names keep the order they always had.
  EXPECT_TRUE(FileSource::NameOrder("events-2024-05-01.ndjson", "events-2024-05-02.ndjson"));
  EXPECT_TRUE(FileSource::NameOrder("part-0009", "part-0010"));
  EXPECT_FALSE(FileSource::NameOrder("part-10", "part-9"));
  EXPECT_FALSE(FileSource::NameOrder("x", "x"));
}

class FollowedFolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sluice_file_source_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "in");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void WriteFile(const std::string& name, int first, int count) {
    std::ofstream out(dir_ / "in" / name);
    for (int i = first; i < first + count; ++i) out << R"({"ts":"2024-05-01T10:00:00Z","n":)" << i << "}\n";
  }
  std::filesystem::path dir_;
};

TEST_F(FollowedFolderTest, AFileNumberedAfterTheOneFollowedIsReadNext) {
  auto config = ParseConfig(R"(
streams:
  ev:
    event_time: ts
    schema: { ts: timestamp, n: int64 }
    batch: { max_records: 1000, max_wait: 100ms }
    sources:
      - { kind: file, path: ")" + (dir_ / "in").string() + R"(", follow: true }
)",
                            "test.yaml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  const StreamConfig& stream = config->streams[0];
  FileSource source(&stream, &stream.sources[0]);
  ASSERT_TRUE(source.Start([](const std::string&) { return std::map<std::string, int64_t>{}; }).ok());
  RecordParser parser(&stream);
  BatchCut cut{stream.batch};
  auto read_all = [&](int64_t expected) {
    int64_t read = 0;
    for (int i = 0; i < 50 && read < expected; ++i) {
      Batch batch(&stream);
      batch.received_at_us = NowMicros();
      ASSERT_TRUE(source.Read(batch, parser, cut, false).ok());
      read += batch.read_records;
    }
    EXPECT_EQ(read, expected);
  };
  WriteFile("part-9.ndjson", 0, 30);
  read_all(30);
  WriteFile("part-10.ndjson", 30, 20);
  read_all(20);
  WriteFile("part-11.ndjson", 50, 10);
  read_all(10);
}

}  // namespace
}  // namespace sluice
