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

// Raw tables from before issue 13 on a cluster keep their layout, and the Distributed table, recreated over the
// local tables when a field is added, still shards by the batch id's hash (the local tables have no _batch).
TEST(ClickHouseTwoShards, RawFromBeforeIntegerProvenanceEvolvesAndLoadsOverBothShards) {
  auto cluster = StartCluster(ClickHouseTestCluster::Layout::kTwoShards);
  ASSERT_TRUE(cluster);
  testing::TempDir dir;
  auto w = testing::OpenOn(*cluster, 0, "sluice");
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  for (const char* sql :
       {"CREATE TABLE sluice.raw_ev_local ON CLUSTER sluice_cluster (ts DateTime, kind Nullable(String), n "
        "Nullable(Int64), actor Tuple(Nullable(Int64), Nullable(String)), tags Array(Nullable(String)), event_date "
        "Date, _extra Nullable(String), _batch_id String, _source String, _partition String, _offset Int64) ENGINE = "
        "ReplicatedMergeTree('/clickhouse/tables/{shard}/sluice/raw_ev_local', '{replica}') PARTITION BY event_date "
        "ORDER BY (ts, _partition, _offset)",
        "CREATE TABLE sluice.raw_ev ON CLUSTER sluice_cluster AS sluice.raw_ev_local ENGINE = "
        "Distributed(sluice_cluster, sluice, raw_ev_local, cityHash64(_batch_id))"})
    ASSERT_TRUE((*w)->Execute(sql).ok()) << sql;
  Config config = MakeConfig(dir.path.string(), "      campaign: string\n");
  Status st = (*w)->Prepare(config);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Scalar(**w,
                   "SELECT engine_full LIKE '%cityHash64(_batch_id)%' FROM system.tables WHERE database = "
                   "'sluice' AND name = 'raw_ev'"),
            "1");
  EXPECT_EQ(Scalar(**w,
                   "SELECT count() FROM system.columns WHERE database = 'sluice' AND table = 'raw_ev' AND "
                   "name IN ('campaign', '_batch', '_partition_index')"),
            "1")
      << "the added field, and no integer provenance beside the strings";
  for (int i = 0; i < 12; ++i) {
    auto loaded =
        (*w)->LoadBatch(*MakeBatch(config.streams[0], i * 100, Events(i * 100, 100)), "f" + std::to_string(i));
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    ASSERT_EQ(*loaded, LoadOutcome::kLoaded);
  }
  ASSERT_TRUE((*w)->Execute("SYSTEM SYNC REPLICA _sluice_batches").ok());
  EXPECT_EQ(Scalar(**w, "SELECT count() FROM raw_ev"), "1200");
  EXPECT_EQ(Scalar(**w, "SELECT uniqExact(_partition, _offset, _landed_file) FROM raw_ev_origin"), "1200");
  const std::string local = Scalar(**w, "SELECT count() FROM raw_ev_local");
  EXPECT_NE(local, "0");
  EXPECT_NE(local, "1200");
}

}  // namespace
}  // namespace sluice
