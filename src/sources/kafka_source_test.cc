// KafkaSource against librdkafka's mock cluster (real Kafka protocol on loopback), loading into a real
// DuckDbWarehouse: what a user checks after ingesting a topic — every message in raw or dead letters exactly
// once, checkpoints at the end of each partition — with one consumer, with a consumer group rebalancing
// mid-stream, and across a restart.
#include "sources/kafka_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <thread>

#include "core/record_parser.h"
#include "core/time.h"
#include "sources/kafka_config.h"
#include "sources/kafka_test_cluster.h"
#include "warehouse/duckdb/duckdb_warehouse.h"

namespace sluice {
namespace {

using namespace std::chrono_literals;

constexpr char kTopic[] = "events";

// Message i: mostly good JSON events; every 50th is broken in one of the ways users send (not JSON, no event
// time, a field of the wrong type), and some good ones carry a newline, which JSON allows as whitespace.
std::string Message(int64_t i) {
  if (i % 50 == 7) return "not json " + std::to_string(i);
  if (i % 50 == 23) return R"({"n":)" + std::to_string(i) + "}";
  if (i % 50 == 41) return R"({"ts":"2024-05-01T10:00:00Z","n":"x)" + std::to_string(i) + "\"}";
  std::string ts = "2024-05-01T" + std::to_string(10 + (i % 5)) + ":00:00Z";
  std::string sep = i % 10 == 3 ? ",\n" : ",";
  return R"({"ts":")" + ts + "\"" + sep + R"("n":)" + std::to_string(i) + R"(,"k":"key)" + std::to_string(i % 13) +
         "\"}";
}
int64_t BadCount(int64_t from, int64_t to) {
  int64_t bad = 0;
  for (int64_t i = from; i < to; ++i) bad += (i % 50 == 7 || i % 50 == 23 || i % 50 == 41);
  return bad;
}
std::vector<std::string> Messages(int64_t from, int64_t to) {
  std::vector<std::string> out;
  for (int64_t i = from; i < to; ++i) out.push_back(Message(i));
  return out;
}

class KafkaSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sluice_kafka_" + std::to_string(::getpid()) + "_" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto c = KafkaTestCluster::Start(3);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cluster_ = std::move(*c);
  }
  void TearDown() override {
    warehouse_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Config with one kafka source on the mock cluster; short session and heartbeat so rebalances take
  // a second, not the default 45.
  void OpenWarehouse(const std::string& extra_options = "") {
    std::string text = R"(
streams:
  ev:
    event_time: ts
    schema: { ts: timestamp, n: int64, k: string }
    batch: { max_records: 1000, max_wait: 200ms }
    sources:
      - kind: kafka
        brokers: ")" + cluster_->bootstrap_servers() +
                       R"("
        topic: events
        group: g1
        options: { session.timeout.ms: "6000", heartbeat.interval.ms: "250", log_level: "4")" +
                       extra_options + R"( }
)";
    auto c = ParseConfig(text, "t.yaml");
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    config_ = std::move(*c);
    auto w = DuckDbWarehouse::Open((dir_ / "w.duckdb").string());
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    warehouse_ = std::move(*w);
    ASSERT_TRUE(warehouse_->Prepare(config_).ok());
  }
  const StreamConfig* stream() const { return &config_.streams[0]; }
  const SourceConfig* source_config() const { return &config_.streams[0].sources[0]; }

  CheckpointReader Reader() {
    return [this](const std::string& source) {
      std::lock_guard<std::mutex> lock(mu_);
      return warehouse_->Checkpoints(source);
    };
  }

  int64_t Q(const std::string& sql) {
    std::lock_guard<std::mutex> lock(mu_);
    auto r = warehouse_->Query(sql);
    EXPECT_TRUE(r.ok()) << r.status().ToString() << " in " << sql;
    return r.ok() && !r->Scalar().empty() ? std::stoll(r->Scalar()) : -1;
  }
  int64_t Read() { return Q("SELECT (SELECT count(*) FROM raw_ev) + (SELECT count(*) FROM _sluice_dead_letters)"); }

  struct Counts {
    int64_t loaded = 0, stale = 0, duplicate = 0;
  };
  // The pipeline's loop for one source, in small: read a batch, load it under the shared lock, tell the
  // source. Ends when drained (with `drain`), when `stop` turns true, or at `deadline_us`.
  Status Consume(KafkaSource& src, bool drain, const std::atomic<bool>* stop, int64_t deadline_us, Counts& counts) {
    RecordParser parser(stream());
    BatchCut cut{stream()->batch};
    while (NowMicros() < deadline_us && !(stop && stop->load())) {
      Batch b(stream());
      b.source = src.name();
      Status st = src.Read(b, parser, cut, drain);
      if (!st.ok() && !st.IsRetry()) return st;
      if (!b.empty()) {
        Result<LoadOutcome> out = LoadOutcome::kStale;
        {
          std::lock_guard<std::mutex> lock(mu_);
          out = warehouse_->LoadBatch(b, "landing/" + b.id + ".ndjson.zst");
        }
        if (!out.ok()) return out.status();
        if (*out == LoadOutcome::kStale) {
          ++counts.stale;
          src.Rejected(b);
        } else {
          ++(*out == LoadOutcome::kLoaded ? counts.loaded : counts.duplicate);
          src.Committed(b);
        }
      }
      if (drain && src.Exhausted()) return Status::Ok();
    }
    return drain && !(stop && stop->load()) ? Status::Retry("deadline passed before the topic was drained")
                                            : Status::Ok();
  }

  // What a user checks: each produced message is in raw or dead letters, once.
  void ExpectExactlyOnce(int64_t produced, int64_t bad) {
    EXPECT_EQ(Q("SELECT count(*) FROM raw_ev"), produced - bad);
    EXPECT_EQ(Q("SELECT count(*) FROM _sluice_dead_letters"), bad);
    EXPECT_EQ(Q("SELECT count(*) FROM (SELECT _partition, _offset FROM raw_ev_origin GROUP BY ALL HAVING count(*) > 1)"), 0)
        << "a (partition, offset) loaded twice";
    EXPECT_EQ(Q("SELECT count(DISTINCT n) FROM raw_ev"), produced - bad) << "every good message, once";
    EXPECT_EQ(Q("SELECT count(*) FROM (SELECT p, o FROM (SELECT _partition p, _offset o FROM raw_ev_origin UNION ALL "
                "SELECT \"partition\", \"offset\" FROM _sluice_dead_letters) GROUP BY ALL)"),
              produced);
  }
  void ExpectCheckpointsAtEnd(int partitions) {
    std::lock_guard<std::mutex> lock(mu_);
    auto cps = warehouse_->Checkpoints(source_config()->name);
    ASSERT_TRUE(cps.ok());
    for (int p = 0; p < partitions; ++p) {
      auto wm = cluster_->Watermarks(kTopic, p);
      ASSERT_TRUE(wm.ok()) << wm.status().ToString();
      std::string pname = KafkaPartitionName(kTopic, p);
      ASSERT_TRUE(cps->count(pname)) << pname << " has no checkpoint";
      EXPECT_EQ(cps->at(pname), wm->second) << pname << ": checkpoint should be the high watermark";
    }
  }

  // Two consumers in one group while messages keep coming; a third joins mid-stream, then one leaves.
  void RebalanceMidStream(const std::string& extra_options) {
    constexpr int64_t kMessages = 20'000;
    constexpr int64_t kChunk = 500;
    constexpr int kPartitions = 4;
    ASSERT_TRUE(cluster_->CreateTopic(kTopic, kPartitions).ok());
    ASSERT_TRUE(cluster_->Produce(kTopic, Messages(0, 2'000), -1, kPartitions).ok());
    OpenWarehouse(extra_options);
    const int64_t t0 = NowMicros();
    const int64_t deadline = t0 + 55 * kMicrosPerSecond;

    std::atomic<bool> stop_a{false}, stop_bc{false};
    std::atomic<int64_t> batches_loaded[3] = {0, 0, 0};
    std::atomic<bool> ever_assigned[3] = {false, false, false};
    Counts counts[3];
    Status status[3];
    auto run = [&](int i, std::atomic<bool>* stop) {
      KafkaSource src(stream(), source_config());
      status[i] = src.Start(Reader());
      // Consume in slices so progress is visible to the test thread.
      while (status[i].ok() && !stop->load() && NowMicros() < deadline) {
        status[i] = Consume(src, false, nullptr, std::min(deadline, NowMicros() + 300'000), counts[i]);
        batches_loaded[i] = counts[i].loaded;
        if (!src.Assigned().empty()) ever_assigned[i] = true;
      }
    };  // the source's destructor leaves the group: a rebalance for the others
    auto log = [&](const char* what) {
      std::fprintf(stderr, "[%5.1fs] %s: %ld of %ld messages loaded\n", (NowMicros() - t0) / 1e6, what, long(Read()),
                   long(kMessages));
    };

    std::thread a(run, 0, &stop_a), b(run, 1, &stop_bc);
    // The rest is produced while they run, a chunk every 300 ms; the last 6,000 only after A left, so both
    // rebalances (C joining, A leaving) happen while messages keep arriving, however long each takes.
    std::atomic<bool> a_left{false};
    std::thread producer([&] {
      for (int64_t from = 2'000; from < kMessages; from += kChunk) {
        while (from >= kMessages - 6'000 && !a_left.load() && NowMicros() < deadline) std::this_thread::sleep_for(20ms);
        EXPECT_TRUE(cluster_->Produce(kTopic, Messages(from, from + kChunk), -1, kPartitions).ok());
        std::this_thread::sleep_for(300ms);
      }
    });
    while (Read() < 4'000 && NowMicros() < deadline) std::this_thread::sleep_for(50ms);
    log("C joins");
    std::thread c(run, 2, &stop_bc);
    while (!ever_assigned[2].load() && NowMicros() < deadline) std::this_thread::sleep_for(50ms);
    log("C was given partitions; A leaves");
    stop_a = true;
    a.join();
    a_left = true;
    log("A left");
    producer.join();
    log("production done");
    while (Read() < kMessages && NowMicros() < deadline) std::this_thread::sleep_for(50ms);
    log("drained");
    stop_bc = true;
    b.join();
    c.join();
    for (const auto& s : status) EXPECT_TRUE(s.ok()) << s.ToString();

    EXPECT_GT(counts[0].loaded, 0);
    EXPECT_GT(counts[1].loaded, 0);
    EXPECT_GT(counts[2].loaded, 0) << "the joining consumer loaded nothing";
    std::fprintf(stderr, "batches loaded a=%ld b=%ld c=%ld; stale a=%ld b=%ld c=%ld\n", long(counts[0].loaded),
                 long(counts[1].loaded), long(counts[2].loaded), long(counts[0].stale), long(counts[1].stale),
                 long(counts[2].stale));
    ExpectExactlyOnce(kMessages, BadCount(0, kMessages));
    ExpectCheckpointsAtEnd(kPartitions);
  }

  std::filesystem::path dir_;
  std::unique_ptr<KafkaTestCluster> cluster_;
  Config config_;
  std::mutex mu_;  // the warehouse is shared by consumer threads, as the pipeline's loader shares it
  std::unique_ptr<DuckDbWarehouse> warehouse_;
};

TEST_F(KafkaSourceTest, OneConsumerLoadsEveryMessageOnceAndCheckpointsTheHighWatermarks) {
  constexpr int64_t kMessages = 20'000;
  constexpr int kPartitions = 4;
  ASSERT_TRUE(cluster_->CreateTopic(kTopic, kPartitions).ok());
  ASSERT_TRUE(cluster_->Produce(kTopic, Messages(0, kMessages), -1, kPartitions).ok());
  OpenWarehouse();
  Counts counts;
  {
    KafkaSource src(stream(), source_config());
    ASSERT_TRUE(src.Start(Reader()).ok());
    Status st = Consume(src, true, nullptr, NowMicros() + 40 * kMicrosPerSecond, counts);
    ASSERT_TRUE(st.ok()) << st.ToString() << " after reading " << Read();
    EXPECT_TRUE(src.Exhausted());
    EXPECT_EQ(src.Assigned().size(), static_cast<size_t>(kPartitions));
    EXPECT_EQ(src.Lag(), 0);
  }
  EXPECT_EQ(counts.stale, 0);
  EXPECT_GE(counts.loaded, kMessages / 1000);
  ExpectExactlyOnce(kMessages, BadCount(0, kMessages));
  ExpectCheckpointsAtEnd(kPartitions);
  // Dead letters say why and where.
  EXPECT_EQ(Q("SELECT count(*) FROM _sluice_dead_letters WHERE error LIKE '%JSON%'"), BadCount(0, kMessages) / 3);
  EXPECT_EQ(Q("SELECT count(*) FROM _sluice_dead_letters WHERE \"partition\" NOT LIKE 'events/%'"), 0);
  // Loaded + dead = read, batch by batch, as the ledger records it.
  EXPECT_EQ(Q("SELECT sum(rows + dead_rows) FROM _sluice_batches"), kMessages);
  // Kafka's committed offsets follow (advisory, for lag tools).
  auto committed = cluster_->CommittedOffset("g1", kTopic, 0);
  ASSERT_TRUE(committed.ok()) << committed.status().ToString();
  EXPECT_EQ(*committed, cluster_->Watermarks(kTopic, 0)->second);
}

// librdkafka before 2.2 stops fetching while its prefetch queue is over queued.max.messages.kbytes and looks
// again only when a broker thread wakes, up to 1 s later; the source wakes them when it finds the queue empty
// with messages still on the broker. Produced in 20 flushes, each partition holds 20 message sets, and the
// mock broker answers a fetch with one set per partition; a 1 KB queue is full after every fetch.
TEST_F(KafkaSourceTest, AFullPrefetchQueueDoesNotLeaveTheConsumerWaitingOnTheBroker) {
  constexpr int64_t kMessages = 20'000;
  constexpr int kPartitions = 4;
  ASSERT_TRUE(cluster_->CreateTopic(kTopic, kPartitions).ok());
  for (int64_t from = 0; from < kMessages; from += 1'000)
    ASSERT_TRUE(cluster_->Produce(kTopic, Messages(from, from + 1'000), -1, kPartitions).ok());
  OpenWarehouse(R"(, queued.max.messages.kbytes: "1")");
  Counts counts;
  KafkaSource src(stream(), source_config());
  ASSERT_TRUE(src.Start(Reader()).ok());
  Status st = Consume(src, true, nullptr, NowMicros() + 40 * kMicrosPerSecond, counts);
  ASSERT_TRUE(st.ok()) << st.ToString() << " after reading " << Read();
  ExpectExactlyOnce(kMessages, BadCount(0, kMessages));
  ExpectCheckpointsAtEnd(kPartitions);
  int64_t wakeups = -1, waited_us = -1;
  for (const auto& [metric, value] : src.Counters()) {
    if (metric == "sluice_kafka_fetcher_wakeups_total") wakeups = value;
    if (metric == "sluice_kafka_wait_micros_total") waited_us = value;
  }
  EXPECT_GT(waited_us, 0) << "a 1 KB queue runs dry between fetches";
  if (rd_kafka_version() < 0x020200ff)
    EXPECT_GT(wakeups, 0) << "the queue filled on every fetch, and nothing woke the fetchers";
  else
    EXPECT_EQ(wakeups, 0) << "librdkafka " << rd_kafka_version_str() << " has fetch.queue.backoff.ms";
}

// A drain ends once every partition is read up to the high watermark that came with its last messages; it
// does not wait for the end-of-partition events, which come with the next fetch, and a broker holds a fetch
// that finds nothing for fetch.wait.max.ms. Held 30 s here, a drain waiting for those events would miss its
// deadline. One partition: with two on one broker, a first fetch that held only the one already read to its
// end would keep the other waiting behind it for the 30 s (a broker has one fetch in flight), end or not.
TEST_F(KafkaSourceTest, DrainEndsAtTheHighWatermarksWithoutWaitingForEndOfPartitionEvents) {
  constexpr int64_t kMessages = 5'000;
  constexpr int kPartitions = 1;
  ASSERT_TRUE(cluster_->CreateTopic(kTopic, kPartitions).ok());
  ASSERT_TRUE(cluster_->Produce(kTopic, Messages(0, kMessages), -1, kPartitions).ok());
  OpenWarehouse(R"(, fetch.wait.max.ms: "30000")");
  Counts counts;
  KafkaSource src(stream(), source_config());
  ASSERT_TRUE(src.Start(Reader()).ok());
  Status st = Consume(src, true, nullptr, NowMicros() + 18 * kMicrosPerSecond, counts);
  ASSERT_TRUE(st.ok()) << st.ToString() << " after reading " << Read();
  EXPECT_TRUE(src.Exhausted());
  EXPECT_EQ(src.Lag(), 0);
  ExpectExactlyOnce(kMessages, BadCount(0, kMessages));
  ExpectCheckpointsAtEnd(kPartitions);
}

TEST_F(KafkaSourceTest, ConsumerGroupRebalancingMidStreamLoadsEveryMessageOnce) { RebalanceMidStream(""); }

// The same with the cooperative protocol (incremental assign/unassign: partitions not moving keep flowing).
TEST_F(KafkaSourceTest, CooperativeRebalancingMidStreamLoadsEveryMessageOnce) {
  RebalanceMidStream(", partition.assignment.strategy: cooperative-sticky");
}

// The handover, deterministically: consumer A holds a batch it has not loaded when B joins. A answers the
// revoke only once that batch is loaded, so B cannot start from checkpoints that miss it (and load its
// records a second time); meanwhile A reads nothing more of the partitions it is giving up.
TEST_F(KafkaSourceTest, ARevokeWaitsUntilTheBatchHoldingItsPartitionsIsLoaded) {
  constexpr int64_t kMessages = 8'000;
  constexpr int kPartitions = 4;
  ASSERT_TRUE(cluster_->CreateTopic(kTopic, kPartitions).ok());
  ASSERT_TRUE(cluster_->Produce(kTopic, Messages(0, kMessages), -1, kPartitions).ok());
  OpenWarehouse();
  const int64_t deadline = NowMicros() + 45 * kMicrosPerSecond;
  KafkaSource a(stream(), source_config());
  ASSERT_TRUE(a.Start(Reader()).ok());
  RecordParser parser(stream());
  BatchCut cut{stream()->batch};
  auto held = std::make_unique<Batch>(stream());
  held->source = a.name();
  BatchCut big{BatchConfig{1'000'000, 1LL << 30, 1'000'000}};
  while (held->ranges.size() < kPartitions && NowMicros() < deadline)
    ASSERT_TRUE(a.Read(*held, parser, big, false).ok());
  ASSERT_EQ(held->ranges.size(), static_cast<size_t>(kPartitions));

  // B joins; A keeps polling (a rebalance needs every member) while still holding its batch.
  Counts b_counts;
  Status b_status;
  std::thread b([&] {
    KafkaSource src(stream(), source_config());
    b_status = src.Start(Reader());
    if (b_status.ok()) b_status = Consume(src, true, nullptr, deadline, b_counts);
  });
  // Until the revoke comes A reads on; its batches are all held. Three seconds is within the group's
  // session timeout (6 s here), after which the group would drop A and the warehouse fence would have to
  // refuse its batches instead.
  std::vector<std::unique_ptr<Batch>> later;
  for (const int64_t until = NowMicros() + 3 * kMicrosPerSecond; NowMicros() < until;) {
    auto next = std::make_unique<Batch>(stream());
    next->source = a.name();
    ASSERT_TRUE(a.Read(*next, parser, cut, false).ok());
    if (!next->empty()) later.push_back(std::move(next));
  }
  EXPECT_EQ(Read(), 0) << "B loaded records while A still held batches of their partitions";

  // A loads its batches: the revoke is answered and B gets its share, from checkpoints that include them.
  later.insert(later.begin(), std::move(held));
  for (auto& batch : later) {
    std::lock_guard<std::mutex> lock(mu_);
    auto out = warehouse_->LoadBatch(*batch, "f");
    ASSERT_TRUE(out.ok());
    ASSERT_EQ(*out, LoadOutcome::kLoaded);
  }
  for (auto& batch : later) a.Committed(*batch);
  // More to read, for both.
  ASSERT_TRUE(cluster_->Produce(kTopic, Messages(kMessages, 2 * kMessages), -1, kPartitions).ok());
  Counts a_counts;
  Status st = Consume(a, true, nullptr, deadline, a_counts);
  b.join();
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(b_status.ok()) << b_status.ToString();
  EXPECT_GT(b_counts.loaded, 0) << "B never got partitions";
  EXPECT_EQ(a_counts.stale + b_counts.stale, 0) << "nobody had to be refused: the handover waited";
  ExpectExactlyOnce(2 * kMessages, BadCount(0, 2 * kMessages));
  ExpectCheckpointsAtEnd(kPartitions);
}

TEST_F(KafkaSourceTest, RestartResumesFromWarehouseCheckpointsNotKafkaCommits) {
  constexpr int64_t kMessages = 6'000;
  constexpr int kPartitions = 2;
  ASSERT_TRUE(cluster_->CreateTopic(kTopic, kPartitions).ok());
  ASSERT_TRUE(cluster_->Produce(kTopic, Messages(0, kMessages), -1, kPartitions).ok());
  OpenWarehouse();
  const int64_t deadline = NowMicros() + 40 * kMicrosPerSecond;
  {
    KafkaSource src(stream(), source_config());
    ASSERT_TRUE(src.Start(Reader()).ok());
    Counts counts;
    // Stop after a part: two batches at most, 1,000 records each.
    RecordParser parser(stream());
    BatchCut cut{stream()->batch};
    while (counts.loaded < 2 && NowMicros() < deadline) {
      Batch b(stream());
      b.source = src.name();
      ASSERT_TRUE(src.Read(b, parser, cut, false).ok());
      if (b.empty()) continue;
      std::lock_guard<std::mutex> lock(mu_);
      ASSERT_EQ(*warehouse_->LoadBatch(b, "f"), LoadOutcome::kLoaded);
      ++counts.loaded;
      src.Committed(b);
    }
  }
  int64_t first_part = Read();
  ASSERT_GT(first_part, 0);
  ASSERT_LT(first_part, kMessages);
  // Kafka's committed offsets now lie: one far ahead (would skip records), one behind (would re-read).
  Status planted = cluster_->CommitOffset("g1", kTopic, 0, 2'900);
  ASSERT_TRUE(planted.ok()) << planted.ToString();
  planted = cluster_->CommitOffset("g1", kTopic, 1, 1);
  ASSERT_TRUE(planted.ok()) << planted.ToString();
  ASSERT_EQ(*cluster_->CommittedOffset("g1", kTopic, 0), 2'900);

  KafkaSource src(stream(), source_config());
  ASSERT_TRUE(src.Start(Reader()).ok());
  Counts counts;
  Status st = Consume(src, true, nullptr, deadline, counts);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(counts.stale, 0) << "the restarted consumer started behind the warehouse checkpoint";
  EXPECT_EQ(counts.duplicate, 0);
  ExpectExactlyOnce(kMessages, BadCount(0, kMessages));
  ExpectCheckpointsAtEnd(kPartitions);
}

// The warehouse may be busy when a rebalance asks for checkpoints: the partitions wait, Read says Retry, and
// a later Read assigns them at the checkpoints. Lag counts what is left meanwhile.
TEST_F(KafkaSourceTest, AssignmentWaitsWhileCheckpointsCannotBeReadAndLagCountsWhatIsLeft) {
  constexpr int64_t kMessages = 6'000;
  ASSERT_TRUE(cluster_->CreateTopic(kTopic, 2).ok());
  ASSERT_TRUE(cluster_->Produce(kTopic, Messages(0, kMessages), -1, 2).ok());
  OpenWarehouse();
  std::atomic<int> failures_left{3};
  CheckpointReader flaky = [&](const std::string& source) -> Result<std::map<std::string, int64_t>> {
    if (failures_left.fetch_sub(1) > 0) return Status::Retry("warehouse busy");
    return Reader()(source);
  };
  KafkaSource src(stream(), source_config());
  ASSERT_TRUE(src.Start(flaky).ok());
  RecordParser parser(stream());
  BatchCut cut{stream()->batch};
  const int64_t deadline = NowMicros() + 40 * kMicrosPerSecond;
  int retries = 0;
  int64_t first_lag = -2;
  Counts counts;
  while (!src.Exhausted() && NowMicros() < deadline) {
    Batch b(stream());
    b.source = src.name();
    Status st = src.Read(b, parser, cut, true);
    if (st.IsRetry()) {
      ++retries;
      EXPECT_TRUE(b.empty());
      continue;
    }
    ASSERT_TRUE(st.ok()) << st.ToString();
    if (b.empty()) continue;
    if (first_lag == -2) first_lag = src.Lag();
    std::lock_guard<std::mutex> lock(mu_);
    ASSERT_EQ(*warehouse_->LoadBatch(b, "f"), LoadOutcome::kLoaded);
    src.Committed(b);
  }
  EXPECT_GE(retries, 1) << "the failing checkpoint reads were not reported";
  EXPECT_GT(first_lag, 0);
  EXPECT_LE(first_lag, kMessages - 1'000);
  EXPECT_EQ(src.Lag(), 0);
  ExpectExactlyOnce(kMessages, BadCount(0, kMessages));
  ExpectCheckpointsAtEnd(2);
}

TEST_F(KafkaSourceTest, KcatTalksToTheMockCluster) {
  if (std::system("command -v kcat >/dev/null 2>&1") != 0) GTEST_SKIP() << "kcat is not on PATH";
  ASSERT_TRUE(cluster_->CreateTopic(kTopic, 4).ok());
  ASSERT_TRUE(cluster_->Produce(kTopic, Messages(0, 8), 2).ok());
  auto run = [](const std::string& cmd) {
    std::string out;
    FILE* f = ::popen(cmd.c_str(), "r");
    if (!f) return out;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    ::pclose(f);
    return out;
  };
  std::string meta = run("timeout 20 kcat -b " + cluster_->bootstrap_servers() + " -L -t events 2>&1");
  EXPECT_NE(meta.find("topic \"events\" with 4 partitions"), std::string::npos) << meta;
  std::string consumed = run("timeout 20 kcat -b " + cluster_->bootstrap_servers() +
                             " -C -t events -p 2 -o beginning -c 2 -e 2>/dev/null");
  EXPECT_NE(consumed.find(R"("n":0,)"), std::string::npos) << consumed;
}

TEST(KafkaConfigTest, SecretsAreRedactedAndExactlyOnceDefaultsSet) {
  SourceConfig s;
  s.kind = "kafka";
  s.name = "ev.kafka";
  s.brokers = "b:9092";
  s.topic = "a, b";
  s.kafka_options = {{"sasl.password", "hunter2"}, {"security.protocol", "sasl_plaintext"}};
  std::string all;
  for (const auto& line : DescribeKafkaConf(s)) all += line + "\n";
  EXPECT_EQ(all.find("hunter2"), std::string::npos);
  EXPECT_NE(all.find("sasl.password=***"), std::string::npos);
  EXPECT_NE(all.find("enable.auto.commit=false"), std::string::npos);
  EXPECT_NE(all.find("client.id=sluice-ev.kafka"), std::string::npos);
  EXPECT_NE(all.find("session.timeout.ms=10000"), std::string::npos);
  EXPECT_EQ(KafkaTopics(s), (std::vector<std::string>{"a", "b"}));
  auto conf = BuildKafkaConsumerConf(s);
  ASSERT_TRUE(conf.ok()) << conf.status().ToString();
  s.kafka_options = {{"sasl.password", "hunter2"}, {"no.such.option", "1"}};
  auto bad = BuildKafkaConsumerConf(s);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("no.such.option"), std::string::npos);
  EXPECT_EQ(bad.status().message().find("hunter2"), std::string::npos);
}

}  // namespace
}  // namespace sluice
