// ZooKeeperLeases (core/work_leases.h over a Coordinator) against a real ZooKeeper.
#include "coordination/zookeeper_leases.h"

#include <gtest/gtest.h>

#include "coordination/coordination_test_util.h"

namespace sluice {
namespace {

class ZooKeeperLeasesTest : public ZooKeeperTest {};

TEST_F(ZooKeeperLeasesTest, OneWorkerAtATimeAndFencedByItsOwnAcquisition) {
  Metrics metrics;
  auto a = Connect("a", &metrics);
  auto b = Connect("b", &metrics);
  ASSERT_TRUE(a && b);
  ZooKeeperLeases la(a.get()), lb(b.get());

  auto got = la.Acquire("collect:github");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got);
  auto again = la.Acquire("collect:github");  // holding it already: true, no new acquisition
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(*again);
  EXPECT_EQ(metrics.Get("sluice_lease_acquisitions_total", "worker=\"a\""), 1);
  auto other = lb.Acquire("collect:github");
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(*other);

  EXPECT_TRUE(la.Fence("collect:github").ok());
  EXPECT_TRUE(la.StillHeld("collect:github"));
  EXPECT_TRUE(lb.Fence("collect:github").IsStale());  // never acquired by b
  EXPECT_FALSE(lb.StillHeld("collect:github"));
  lb.Release("collect:github");                       // not b's: nothing happens
  EXPECT_TRUE(la.Fence("collect:github").ok());

  la.Release("collect:github");
  auto taken = lb.Acquire("collect:github");
  ASSERT_TRUE(taken.ok());
  EXPECT_TRUE(*taken);
  EXPECT_TRUE(lb.Fence("collect:github").ok());
  EXPECT_TRUE(lb.StillHeld("collect:github"));
  EXPECT_TRUE(la.Fence("collect:github").IsStale());
  EXPECT_FALSE(la.StillHeld("collect:github"));
}

// a's lease passes to b behind a's back (its node deleted, as when its session expires): a's fence is refused.
TEST_F(ZooKeeperLeasesTest, FenceRefusedOnceTheLeasePassedOn) {
  auto a = Connect("a");
  auto b = Connect("b");
  ASSERT_TRUE(a && b);
  ZooKeeperLeases la(a.get()), lb(b.get());
  ASSERT_TRUE(la.Acquire("transform:g1").value());
  zhandle_t* admin = RawZooKeeperClient(zookeeper_->address());
  ASSERT_NE(admin, nullptr);
  std::string path = MakeConfig().coordination_root + "/leases/transform%3Ag1";
  EXPECT_EQ(zoo_delete(admin, path.c_str(), -1), ZOK);
  zookeeper_close(admin);
  ASSERT_TRUE(lb.Acquire("transform:g1").value());
  Status fenced = la.Fence("transform:g1");
  EXPECT_TRUE(fenced.IsStale()) << fenced.ToString();
  EXPECT_TRUE(lb.Fence("transform:g1").ok());
}

}  // namespace
}  // namespace sluice
