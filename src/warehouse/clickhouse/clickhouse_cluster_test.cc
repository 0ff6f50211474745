// ClickHouseWarehouse on a cluster: 1 shard x 2 replicas (a load cut short on one replica is completed from
// the other, whose re-sent blocks are dropped by deduplication) and 2 shards (the Distributed raw table).
#include <gtest/gtest.h>

#include "landing/landing_store.h"
#include "warehouse/clickhouse/clickhouse_test_util.h"

namespace sluice {
namespace {

using testing::Events;
using testing::MakeBatch;
using testing::MakeConfig;
using testing::Scalar;

std::unique_ptr<ClickHouseTestCluster> StartCluster(ClickHouseTestCluster::Layout layout) {
  auto c = ClickHouseTestCluster::Start(layout);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(*c) : nullptr;
}

TEST(ClickHouseTwoReplicas, ALoadCutBeforeItsLedgerRowIsCompletedOnTheOtherReplicaWithEveryEventOnce) {
  auto cluster = StartCluster(ClickHouseTestCluster::Layout::kTwoReplicas);
  ASSERT_TRUE(cluster);
  testing::TempDir dir;
  Config config = MakeConfig(dir.path.string());
  const StreamConfig& s = config.streams[0];
  auto first = testing::OpenOn(*cluster, 0, "sluice");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE((*first)->Prepare(config).ok());
  // Two event days, so two blocks; plus dead letters.
  auto events = Events(0, 3000, 2000);
  events.push_back("not json");
  auto batch = MakeBatch(s, 0, events);
  LandingStore landing(config.landing_path);
  ASSERT_TRUE(landing.Land(*batch).ok());
  (*first)->SetFaultHook([](std::string_view point) {
    return point == "ledger" ? Status::Internal("crash before the ledger") : Status::Ok();
  });
  ASSERT_FALSE((*first)->LoadBatch(*batch, "f").ok());
  EXPECT_EQ(Scalar(**first, "SELECT count() FROM raw_ev"), "3000");

  // The restarted loader talks to the other replica; it re-sends the same blocks there.
  auto second = testing::OpenOn(*cluster, 1, "sluice");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ASSERT_TRUE((*second)->Prepare(config).ok());
  Status st = (*second)->RecoverFromLanding(config);
  ASSERT_TRUE(st.ok()) << st.ToString();
  for (auto* w : {first->get(), second->get()}) {
    ASSERT_TRUE(w->Execute("SYSTEM SYNC REPLICA raw_ev_local").ok());
    ASSERT_TRUE(w->Execute("SYSTEM SYNC REPLICA _sluice_dead_letters").ok());
    ASSERT_TRUE(w->Execute("SYSTEM SYNC REPLICA _sluice_batches").ok());
    EXPECT_EQ(Scalar(*w, "SELECT count() FROM raw_ev_local"), "3000");
    EXPECT_EQ(Scalar(*w, "SELECT uniqExact(n) FROM raw_ev_local"), "3000");
    EXPECT_EQ(Scalar(*w, "SELECT count() FROM _sluice_dead_letters"), "1");
    EXPECT_EQ(Scalar(*w, "SELECT count() FROM _sluice_batches FINAL"), "1");
    EXPECT_EQ(w->Checkpoints("ev.http")->at("p0"), 3001);
  }
  // Retrying the whole load on the first replica is now a duplicate.
  (*first)->SetFaultHook(nullptr);
  EXPECT_EQ(*(*first)->LoadBatch(*batch, "f"), LoadOutcome::kDuplicate);
  EXPECT_EQ(Scalar(**first, "SELECT count() FROM raw_ev"), "3000");
}

TEST(ClickHouseTwoShards, TheDistributedRawTableAnswersOverBothShards) {
  auto cluster = StartCluster(ClickHouseTestCluster::Layout::kTwoShards);
  ASSERT_TRUE(cluster);
  testing::TempDir dir;
  Config config = MakeConfig(dir.path.string());
  auto w = testing::OpenOn(*cluster, 0, "sluice");
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  Status st = (*w)->Prepare(config);
  ASSERT_TRUE(st.ok()) << st.ToString();
  // Batches go to a shard chosen by their id: with 12 batches both shards get some.
  for (int i = 0; i < 12; ++i) {
    auto loaded = (*w)->LoadBatch(*MakeBatch(config.streams[0], i * 100, Events(i * 100, 100)), "f");
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    ASSERT_EQ(*loaded, LoadOutcome::kLoaded);
  }
  auto other = testing::OpenOn(*cluster, 1, "sluice");
  ASSERT_TRUE(other.ok());
  for (auto* x : {w->get(), other->get()}) {
    EXPECT_EQ(Scalar(*x, "SELECT count() FROM raw_ev"), "1200");
    EXPECT_EQ(Scalar(*x, "SELECT uniqExact(n) FROM raw_ev"), "1200");
    std::string local = Scalar(*x, "SELECT count() FROM raw_ev_local");
    EXPECT_NE(local, "0");
    EXPECT_NE(local, "1200");
    // The ledger is one table replicated to every server: checkpoints read the same anywhere.
    ASSERT_TRUE(x->Execute("SYSTEM SYNC REPLICA _sluice_batches").ok());
    EXPECT_EQ(x->Checkpoints("ev.http")->at("p0"), 1200);
  }
}

}  // namespace
}  // namespace sluice
