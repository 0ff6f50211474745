// Group commit of HTTP bodies through a real Pipeline over a real DuckDB warehouse: bodies posted at once
// share batches and each is answered with its own counts, the warehouse holds exactly what was answered,
// a body that would overflow the batch limits goes in the next group, and a full queue refuses with Retry.
#include "batching/http_group_commit.h"

#include <gtest/gtest.h>

#include <future>
#include <latch>
#include <map>
#include <set>
#include <thread>

#include "batching/http_test_pipeline.h"
#include "batching/pipeline.h"

namespace sluice {
namespace {

class HttpGroupCommitTest : public ::testing::Test, protected testing::HttpTestPipeline {
 protected:
  void TearDown() override { StopPipeline(); }
  void Start(const std::string& batch) { StartPipeline("group_commit", batch); }

  // Posts `bodies` from one thread each, all released at once; the answers in the same order.
  std::vector<Result<IngestReport>> PostTogether(const std::vector<std::string>& bodies) {
    std::latch go(static_cast<ptrdiff_t>(bodies.size()));
    std::vector<std::future<Result<IngestReport>>> answers;
    for (const auto& body : bodies)
      answers.push_back(std::async(std::launch::async, [&go, &body, this] {
        go.arrive_and_wait();
        return pipeline_->Ingest("t", body);
      }));
    std::vector<Result<IngestReport>> out;
    for (auto& a : answers) out.push_back(a.get());
    return out;
  }
};

TEST_F(HttpGroupCommitTest, TwentyBodiesAtOnceShareBatchesAndEachIsAnsweredWithItsOwnCounts) {
  Start("{ max_wait: 1s }");
  // Body i holds i % 4 + 1 records; body 7 also holds one that is dead-lettered.
  std::vector<std::string> bodies;
  int64_t expected_rows = 0;
  for (int i = 0; i < 20; ++i) {
    std::string body;
    for (int r = 0; r <= i % 4; ++r) body += Record(i * 100 + r);
    if (i == 7) body += "{\"ts\":\"2026-11-01T00:00:00Z\",\"n\":\"seven\"}\n";
    expected_rows += i % 4 + 1;
    bodies.push_back(body);
  }
  auto answers = PostTogether(bodies);

  std::set<std::string> batch_ids;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(answers[i].ok()) << "body " << i << ": " << answers[i].status().ToString();
    EXPECT_EQ(answers[i]->loaded, i % 4 + 1) << "body " << i;
    EXPECT_EQ(answers[i]->dead, i == 7 ? 1 : 0) << "body " << i;
    batch_ids.insert(answers[i]->batch_id);
  }
  // Answered after commit: the warehouse holds exactly the sum, each record once.
  EXPECT_EQ(Scalar("SELECT count(*) FROM raw_t"), std::to_string(expected_rows));
  EXPECT_EQ(Scalar("SELECT count(DISTINCT n) FROM raw_t"), std::to_string(expected_rows));
  EXPECT_EQ(Scalar("SELECT count(*) FROM _sluice_dead_letters"), "1");
  // Fewer batches (transactions) than bodies, and the answers name exactly the batches in the ledger.
  const std::string batches = Scalar("SELECT count(*) FROM _sluice_batches");
  EXPECT_LT(std::stoi(batches), 20);
  EXPECT_EQ(batches, std::to_string(batch_ids.size()));
  for (const auto& id : batch_ids)
    EXPECT_EQ(Scalar("SELECT count(*) FROM _sluice_batches WHERE batch_id = '" + id + "'"), "1") << id;
  // Positions stay one sequence per worker: every record, dead letters too, took the next number.
  EXPECT_EQ(Scalar("SELECT next_offset FROM _sluice_checkpoints"), std::to_string(expected_rows + 1));
}

TEST_F(HttpGroupCommitTest, ABodyThatWouldOverflowTheBatchGoesInTheNextGroup) {
  Start("{ max_records: 10, max_wait: 1s }");
  std::vector<std::string> bodies;
  for (int i = 0; i < 6; ++i) {
    std::string body;
    for (int r = 0; r < 4; ++r) body += Record(i * 10 + r);
    bodies.push_back(body);
  }
  auto answers = PostTogether(bodies);
  std::map<std::string, int64_t> rows_by_batch;
  for (const auto& a : answers) {
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    EXPECT_EQ(a->loaded, 4);
    rows_by_batch[a->batch_id] += a->loaded;
  }
  // No batch past the limit, no body split across two: each batch holds what its bodies were told.
  EXPECT_GE(rows_by_batch.size(), 3u);
  for (const auto& [id, rows] : rows_by_batch) {
    EXPECT_LE(rows, 10) << id;
    EXPECT_EQ(Scalar("SELECT rows FROM _sluice_batches WHERE batch_id = '" + id + "'"), std::to_string(rows)) << id;
  }
  EXPECT_EQ(Scalar("SELECT count(*) FROM raw_t"), "24");

  // A body over the limit on its own is still loaded whole, as a batch of its own.
  std::string big;
  for (int r = 0; r < 15; ++r) big += Record(1000 + r);
  auto alone = pipeline_->Ingest("t", big);
  ASSERT_TRUE(alone.ok()) << alone.status().ToString();
  EXPECT_EQ(alone->loaded, 15);
  EXPECT_EQ(Scalar("SELECT rows FROM _sluice_batches WHERE batch_id = '" + alone->batch_id + "'"), "15");
}

TEST_F(HttpGroupCommitTest, WhileTheWarehouseIsBusyBodiesGatherInTheOpenGroupInsteadOfBeingRefused) {
  Start("{ max_wait: 1s }");
  ASSERT_TRUE(pipeline_->Ingest("t", Record(0)).ok());  // reads the checkpoint
  testing::WarehouseHold hold(*pipeline_);
  // 20 bodies, one after another, while nothing can commit: two groups go in flight, the rest wait in the
  // open group, which grows (the loader's queue never fills, so nothing is refused).
  std::vector<std::future<Result<IngestReport>>> answers;
  for (int i = 1; i <= 20; ++i) {
    answers.push_back(std::async(std::launch::async, [this, i] { return pipeline_->Ingest("t", Record(i)); }));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_LE(pipeline_->queue_depth(), 2u);
  ASSERT_TRUE(hold.Release().ok());
  std::set<std::string> batch_ids;
  for (auto& a : answers) {
    auto r = a.get();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->loaded, 1);
    batch_ids.insert(r->batch_id);
  }
  EXPECT_LE(batch_ids.size(), 3u) << "two groups in flight, everything else in the third";
  EXPECT_EQ(metrics_.Get("sluice_http_refused_total"), 0);
  EXPECT_EQ(Scalar("SELECT count(*) FROM raw_t"), "21");
}

TEST_F(HttpGroupCommitTest, AFullQueueRefusesWithRetryAndLosesNothingItAccepted) {
  // One record per batch: every body is a full group, so four of them fill the loader's queue.
  Start("{ max_records: 1, max_wait: 1s }");
  // The first body reads the checkpoint; it must not wait behind the held warehouse below.
  ASSERT_TRUE(pipeline_->Ingest("t", Record(0)).ok());
  // Hold the warehouse busy (as a long query would), so the loader cannot commit.
  testing::WarehouseHold hold(*pipeline_);
  std::vector<std::future<Result<IngestReport>>> accepted;
  for (size_t i = 0; i < Pipeline::kMaxQueued; ++i) {
    accepted.push_back(std::async(std::launch::async, [this, i] { return pipeline_->Ingest("t", Record(1 + i)); }));
    while (pipeline_->queue_depth() < i + 1) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  auto refused = pipeline_->Ingest("t", Record(99));
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.status().IsRetry()) << refused.status().ToString();
  EXPECT_GE(pipeline_->RetryAfterSeconds(), 1);
  EXPECT_EQ(metrics_.Get("sluice_http_refused_total"), 1);

  ASSERT_TRUE(hold.Release().ok());
  for (auto& f : accepted) {
    auto r = f.get();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->loaded, 1);
  }
  EXPECT_EQ(Scalar("SELECT count(*) FROM raw_t"), std::to_string(1 + Pipeline::kMaxQueued));
  EXPECT_EQ(Scalar("SELECT count(*) FROM raw_t WHERE n = 99"), "0");
}

}  // namespace
}  // namespace sluice
