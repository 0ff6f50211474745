// POST /ingest of a real Server, Pipeline and DuckDB warehouse under load: concurrent clients are each
// answered 200 with their own counts, and when the loader's queue is really full (the warehouse held busy)
// the answer is 503 with a Retry-After in whole seconds.
#include "serve/ingest_route.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <future>
#include <thread>

#include "batching/http_test_pipeline.h"
#include "serve/server.h"

namespace sluice {
namespace {

class IngestRouteTest : public ::testing::Test, protected testing::HttpTestPipeline {
 protected:
  // A server for stream `t` (an http source) with the batch settings `batch`.
  void Start(const std::string& batch) {
    StartPipeline("ingest_route", batch);
    if (HasFatalFailure()) return;
    auto readers = warehouse_->OpenReaders(1);
    ASSERT_TRUE(readers.ok());
    server_ = std::make_unique<Server>(*config_, *pipeline_, *readers);
    ASSERT_TRUE(server_->Start("127.0.0.1:0").ok());
  }
  void TearDown() override {
    if (server_) server_->Stop();
    server_.reset();
    StopPipeline();
  }

  httplib::Result Post(int n) {
    httplib::Client client("127.0.0.1", server_->port());
    client.set_read_timeout(30, 0);
    return client.Post("/ingest/t", "{\"ts\":\"2026-11-01T00:00:00Z\",\"n\":" + std::to_string(n) + "}\n",
                       "application/x-ndjson");
  }

  std::unique_ptr<Server> server_;
};

TEST_F(IngestRouteTest, AFullQueueAnswers503WithRetryAfterAndTheAcceptedBodiesCommit) {
  // One record per batch: every body is a full group, so four of them fill the loader's queue.
  Start("{ max_records: 1 }");
  // The first body reads the http checkpoint, which waits for the warehouse: send it before holding that.
  auto first = Post(0);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200) << first->body;

  testing::WarehouseHold hold(*pipeline_);
  std::vector<std::future<httplib::Result>> accepted;
  for (size_t i = 0; i < Pipeline::kMaxQueued; ++i) {
    accepted.push_back(std::async(std::launch::async, [this, i] { return Post(static_cast<int>(1 + i)); }));
    while (pipeline_->queue_depth() < i + 1) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  auto refused = Post(99);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503) << refused->body;
  ASSERT_TRUE(refused->has_header("Retry-After"));
  EXPECT_GE(std::stoi(refused->get_header_value("Retry-After")), 1);

  ASSERT_TRUE(hold.Release().ok());
  for (auto& f : accepted) {
    auto r = f.get();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    EXPECT_NE(r->body.find("\"loaded\":1,\"dead_lettered\":0"), std::string::npos) << r->body;
  }
}

TEST_F(IngestRouteTest, TwentyConcurrentClientsAreEachAnsweredWithTheirOwnCounts) {
  Start("{ max_wait: 1s }");
  std::vector<std::future<httplib::Result>> answers;
  for (int i = 0; i < 20; ++i) answers.push_back(std::async(std::launch::async, [this, i] { return Post(i); }));
  for (int i = 0; i < 20; ++i) {
    auto r = answers[i].get();
    ASSERT_TRUE(r) << "client " << i << ": " << httplib::to_string(r.error());
    EXPECT_EQ(r->status, 200) << r->body;
    EXPECT_NE(r->body.find("\"loaded\":1,\"dead_lettered\":0"), std::string::npos) << r->body;
  }
  std::string rows, batches;
  ASSERT_TRUE(pipeline_
                  ->WithWarehouse([&](Warehouse& w) -> Status {
                    ASSIGN_OR_RETURN(auto r, w.Query("SELECT count(*) FROM raw_t"));
                    rows = r.Scalar();
                    ASSIGN_OR_RETURN(auto b, w.Query("SELECT count(*) FROM _sluice_batches"));
                    batches = b.Scalar();
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(rows, "20");
  EXPECT_LT(std::stoi(batches), 20) << "bodies arriving together share batches";
}

}  // namespace
}  // namespace sluice
