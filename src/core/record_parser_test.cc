#include "core/record_parser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "core/time.h"

namespace sluice {
namespace {

class RecordParserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = ParseConfig(R"(
streams:
  t:
    event_time: ts
    max_record: 300
    schema:
      ts: timestamp
      n: int64
      x: float64
      ok: bool
      d: date
      name: string
      actor: { id: int64, login: string }
      tags: [string]
      payload: json
      ms: timestamp_ms
    sources: [ { kind: http } ]
)",
                         "t.yaml");
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    config_ = std::move(*c);
    batch_ = std::make_unique<Batch>(&config_.streams[0]);
    batch_->source = "s";
    parser_ = std::make_unique<RecordParser>(&config_.streams[0]);
    part_ = batch_->PartitionIndex("p0");
  }
  bool Parse(std::string_view rec) {
    bool ok = parser_->Parse(rec, part_, offset_, offset_ + 1, *batch_);
    ++offset_;
    return ok;
  }
  std::string LastError() { return batch_->dead_letters.back().error; }

  Config config_;
  std::unique_ptr<Batch> batch_;
  std::unique_ptr<RecordParser> parser_;
  uint32_t part_ = 0;
  int64_t offset_ = 0;
};

TEST_F(RecordParserTest, LoadsEveryTypeIncludingNested) {
  ASSERT_TRUE(Parse(R"({"ts":"2015-01-01T12:00:01Z","n":42,"x":1.5,"ok":true,"d":"2024-02-29","name":"a\"b",)"
                    R"("actor":{"id":7,"login":"bob","url":"u"},"tags":["x","y"],"payload":{"k":[1,2]},"ms":1000,"new":1})"));
  const Batch& b = *batch_;
  ASSERT_EQ(b.rows(), 1u);
  EXPECT_EQ(b.columns[0].int_at(0), *ParseIsoMicros("2015-01-01T12:00:01Z"));
  EXPECT_EQ(b.columns[1].int_at(0), 42);
  EXPECT_EQ(b.columns[2].double_at(0), 1.5);
  EXPECT_EQ(b.columns[3].int_at(0), 1);
  EXPECT_EQ(b.columns[4].int_at(0), *ParseIsoDate("2024-02-29"));
  EXPECT_EQ(b.columns[5].string_at(0), "a\"b");
  EXPECT_EQ(b.columns[6].children()[0].int_at(0), 7);
  EXPECT_EQ(b.columns[6].children()[1].string_at(0), "bob");
  EXPECT_EQ(b.columns[7].list_end(0), 2u);
  EXPECT_EQ(b.columns[7].element().string_at(1), "y");
  EXPECT_EQ(b.columns[8].string_at(0), R"({"k":[1,2]})");
  EXPECT_EQ(b.columns[9].int_at(0), 1000000);
  EXPECT_EQ(b.extra.string_at(0), R"({"actor.url":"u","new":1})");
  EXPECT_EQ(b.event_hours.size(), 1u);
  EXPECT_TRUE(b.dead_letters.empty());
}

TEST_F(RecordParserTest, MissingFieldsAreNullAndEpochNumbersAreTimes) {
  ASSERT_TRUE(Parse(R"({"ts":1420113601})"));
  EXPECT_EQ(batch_->columns[0].int_at(0), *ParseIsoMicros("2015-01-01T12:00:01Z"));
  EXPECT_FALSE(batch_->columns[1].valid(0));
  EXPECT_FALSE(batch_->columns[6].valid(0));
  EXPECT_FALSE(batch_->extra.valid(0));
}

TEST_F(RecordParserTest, EveryBadRecordIsDeadLetteredWithItsReasonAndPosition) {
  struct Case {
    std::string record, reason;
  } cases[] = {
      {R"({"ts":"2015-01-01T12:00:01Z",)", "invalid JSON"},
      {"{\"ts\":\"2015-01-01T12:00:01Z\",\"name\":\"\xff\xfe\"}", "invalid UTF-8"},
      {R"([1,2])", "not a JSON object"},
      {R"(not json)", "invalid JSON"},
      {R"(42)", "not a JSON object"},
      {R"({"n":1})", "missing event time 'ts'"},
      {R"({"ts":null})", "missing event time 'ts'"},
      {R"({"ts":"yesterday"})", "field 'ts': unparsable timestamp 'yesterday'"},
      {R"({"ts":"2015-01-01T12:00:01Z","n":"42"})", "field 'n': expected int64, got a string"},
      {R"({"ts":"2015-01-01T12:00:01Z","n":1.5})", "field 'n': not a 64-bit integer"},
      {R"({"ts":"2015-01-01T12:00:01Z","actor":{"id":"x"}})", "field 'actor.id': expected int64, got a string"},
      {R"({"ts":"2015-01-01T12:00:01Z","tags":[1]})", "field 'tags[0]': expected string, got a number"},
      {R"({"ts":"2015-01-01T12:00:01Z","d":"2023-02-29"})", "field 'd': unparsable date '2023-02-29'"},
      {R"({"ts":"2015-01-01T12:00:01Z","n":1,"n":2})", "field 'n' appears twice"},
      {R"({"ts":"2015-01-01T12:00:01Z"} {"a":1})", "invalid JSON: trailing content after the object"},
      {"{\"ts\":\"2015-01-01T12:00:01Z\",\"name\":\"" + std::string(400, 'a') + "\"}",
       "record too long: 439 bytes > limit 300"},
  };
  ASSERT_TRUE(Parse(R"({"ts":"2015-01-01T12:00:00Z","n":1})"));
  for (const auto& c : cases) {
    int64_t at = offset_;
    EXPECT_FALSE(Parse(c.record)) << c.record;
    ASSERT_FALSE(batch_->dead_letters.empty());
    EXPECT_EQ(batch_->dead_letters.back().offset, at);
    EXPECT_EQ(batch_->dead_letters.back().partition, "p0");
    EXPECT_EQ(batch_->dead_letters.back().raw_length, static_cast<int64_t>(c.record.size()));
    EXPECT_EQ(LastError().rfind(c.reason, 0), 0u) << "record " << c.record << " got: " << LastError();
  }
  ASSERT_TRUE(Parse(R"({"ts":"2015-01-01T13:00:00Z","n":2})"));
  // loaded + dead = read, and no half-parsed record left a value behind.
  EXPECT_EQ(batch_->rows() + batch_->dead_letters.size(), static_cast<size_t>(batch_->read_records));
  for (const auto& col : batch_->columns) EXPECT_EQ(col.size(), batch_->rows());
  EXPECT_EQ(batch_->extra.size(), batch_->rows());
  EXPECT_EQ(batch_->columns[1].int_at(1), 2);
  EXPECT_EQ(batch_->event_hours.size(), 2u);
}

// Kafka messages and HTTP lines are landed first and parsed from the landed copy: the outcome must be that of
// parsing the record as received, and landing must hold exactly one line per record.
TEST_F(RecordParserTest, LandAndParseGivesParsesOutcomeAndOneLandedLinePerRecord) {
  const std::vector<std::string> records = {
      R"({"ts":"2015-01-01T12:00:00Z","n":1,"name":"a"})",
      "{\"ts\":\"2015-01-01T12:00:01Z\",\n \"n\":2}",         // a newline as whitespace: valid
      "{\"ts\":\"2015-01-01T12:00:02Z\",\"name\":\"a\nb\"}",  // a raw newline in a string: invalid
      R"({"ts":"2015-01-01T12:00:03Z",)",                     // cut short, as at a buffer's end
      R"({"ts":"2015-01-01T12:00:04Z","n":"4"})",
      "",
      R"({"ts":"2015-01-01T12:00:05Z","payload":{"k":[1,2]},"new":"x"})",
  };
  Batch landed(&config_.streams[0]);
  const uint32_t part = landed.PartitionIndex("p0");
  std::string lines;
  for (size_t i = 0; i < records.size(); ++i) {
    const bool by_parse = Parse(records[i]);
    EXPECT_EQ(parser_->LandAndParse(records[i], part, static_cast<int64_t>(i), static_cast<int64_t>(i) + 1, landed),
              by_parse)
        << records[i];
    std::string line = records[i];
    std::replace(line.begin(), line.end(), '\n', ' ');
    lines += line + "\n";
  }
  EXPECT_EQ(landed.landing_data, lines);
  ASSERT_EQ(landed.rows(), batch_->rows());
  ASSERT_EQ(landed.rows(), 3u);
  EXPECT_EQ(landed.columns[1].int_at(1), 2);
  EXPECT_EQ(landed.extra.string_at(2), R"({"new":"x"})");
  ASSERT_EQ(landed.dead_letters.size(), batch_->dead_letters.size());
  for (size_t i = 0; i < landed.dead_letters.size(); ++i) {
    EXPECT_EQ(landed.dead_letters[i].error, batch_->dead_letters[i].error);
    EXPECT_EQ(landed.dead_letters[i].raw, batch_->dead_letters[i].raw);  // as received, newline and all
    EXPECT_EQ(landed.dead_letters[i].offset, batch_->dead_letters[i].offset);
  }
  EXPECT_EQ(landed.dead_letters[0].raw, records[2]);
}

TEST(TimeTest, ParsesIsoVariantsAndRoundTrips) {
  EXPECT_EQ(*ParseIsoMicros("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*ParseIsoMicros("1970-01-01 01:00:00+01:00"), 0);
  EXPECT_EQ(*ParseIsoMicros("1970-01-01T00:00:00.5Z"), 500000);
  EXPECT_EQ(*ParseIsoMicros("1969-12-31T23:00:00-01:00"), 0);
  EXPECT_FALSE(ParseIsoMicros("2015-13-01T00:00:00Z"));
  EXPECT_FALSE(ParseIsoMicros("2015-01-01T00:00:00Zjunk"));
  EXPECT_EQ(FormatIsoMicros(*ParseIsoMicros("2024-02-29T23:59:59Z")), "2024-02-29T23:59:59Z");
  EXPECT_EQ(HourOf(*ParseIsoMicros("2015-01-01T12:34:56Z")), *ParseIsoMicros("2015-01-01T12:00:00Z"));
  EXPECT_EQ(HourOf(-1), -kMicrosPerHour);
  EXPECT_EQ(*ParseDurationMicros("1h30m"), 90 * 60 * kMicrosPerSecond);
  EXPECT_FALSE(ParseDurationMicros("1x"));
}

// The Kafka source's debug line tells time on a core from time spent ready but not running with this.
TEST(TimeTest, ThreadCpuCountsRunningNotSleeping) {
  const int64_t start = ThreadCpuMicros();
  while (ThreadCpuMicros() - start < 20'000) {
  }  // ends only because running advances it
  const int64_t before_sleep = ThreadCpuMicros();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_LT(ThreadCpuMicros() - before_sleep, 50'000);
}

}  // namespace
}  // namespace sluice
