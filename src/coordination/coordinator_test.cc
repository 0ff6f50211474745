// Coordinator against a real standalone ZooKeeper on loopback (coordination_test_util.h: one per suite, each
// test with its own root, 4 s lease timeouts).
#include "coordination/coordinator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zookeeper/zookeeper.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

#include "coordination/coordination_test_util.h"
#include "core/time.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

double SecondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

class CoordinatorTest : public ZooKeeperTest {};

TEST_F(CoordinatorTest, OnlyOneOfTwoWorkersGetsALease) {
  Metrics metrics;
  auto a = Connect("a", &metrics);
  auto b = Connect("b", &metrics);
  ASSERT_TRUE(a && b);

  auto got = a->TryAcquire("transform:tracking_hourly");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(got->has_value());
  Lease lease = **got;
  EXPECT_EQ(lease.name, "transform:tracking_hourly");
  EXPECT_EQ(lease.epoch, 1);

  auto other = b->TryAcquire("transform:tracking_hourly");
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_FALSE(other->has_value());

  // Acquiring again what it holds gives the same lease, not a new epoch.
  auto again = a->TryAcquire("transform:tracking_hourly");
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ((*again)->epoch, 1);

  EXPECT_TRUE(a->Holds(lease));
  EXPECT_FALSE(b->Holds(lease));
  EXPECT_TRUE(a->Fence(lease).ok());
  Status refused = b->Fence(lease);
  EXPECT_TRUE(refused.IsStale()) << refused.ToString();

  auto leases = b->Leases();
  ASSERT_TRUE(leases.ok()) << leases.status().ToString();
  ASSERT_EQ(leases->size(), 1u);
  EXPECT_EQ((*leases)[0].name, "transform:tracking_hourly");
  EXPECT_EQ((*leases)[0].owner, "a");
  EXPECT_EQ((*leases)[0].epoch, 1);
  EXPECT_NEAR(static_cast<double>((*leases)[0].since_us), static_cast<double>(NowMicros()), 60e6);

  EXPECT_EQ(metrics.Get("sluice_leases_held", "worker=\"a\""), 1);
  EXPECT_EQ(metrics.Get("sluice_leases_held", "worker=\"b\""), 0);
  EXPECT_EQ(metrics.Get("sluice_lease_acquisitions_total", "worker=\"a\""), 1);
  EXPECT_EQ(metrics.Get("sluice_lease_fence_refusals_total", "worker=\"b\""), 1);
}

TEST_F(CoordinatorTest, ReleasePassesTheLeaseOnAtANewEpoch) {
  Metrics metrics;
  auto a = Connect("a", &metrics);
  auto b = Connect("b", &metrics);
  ASSERT_TRUE(a && b);
  auto first = a->TryAcquire("collector:github@2024-05-01T03:00");
  ASSERT_TRUE(first.ok() && first->has_value()) << first.status().ToString();
  a->Release(**first);
  EXPECT_FALSE(a->Holds(**first));
  EXPECT_EQ(metrics.Get("sluice_leases_held", "worker=\"a\""), 0);

  auto second = b->TryAcquire("collector:github@2024-05-01T03:00");
  ASSERT_TRUE(second.ok() && second->has_value()) << second.status().ToString();
  EXPECT_EQ((*second)->epoch, (*first)->epoch + 1);
  EXPECT_TRUE(b->Holds(**second));
  EXPECT_TRUE(b->Fence(**second).ok());
  EXPECT_TRUE(a->Fence(**first).IsStale());
  // Releasing is a no-op unless held at that epoch: a's stale release does not free b's lease.
  a->Release(**first);
  auto still = a->TryAcquire("collector:github@2024-05-01T03:00");
  ASSERT_TRUE(still.ok());
  EXPECT_FALSE(still->has_value());
  EXPECT_EQ(metrics.Get("sluice_lease_losses_total", "worker=\"a\""), 0);  // released, not lost
}

TEST_F(CoordinatorTest, EpochsStrictlyIncreaseAcrossWorkersAndRestarts) {
  const std::string name = "file:/data/in/../events.ndjson";  // '/', ':' and '.' in one path component
  int64_t last = 0;
  {
    auto a = Connect("a");
    auto b = Connect("b");
    ASSERT_TRUE(a && b);
    for (int round = 0; round < 6; ++round) {
      Coordinator& c = round % 2 == 0 ? *a : *b;
      auto got = c.TryAcquire(name);
      ASSERT_TRUE(got.ok() && got->has_value()) << got.status().ToString();
      EXPECT_GT((*got)->epoch, last) << "round " << round;
      last = (*got)->epoch;
      auto listed = (round % 2 == 0 ? *b : *a).Leases();
      ASSERT_TRUE(listed.ok());
      ASSERT_EQ(listed->size(), 1u);
      EXPECT_EQ((*listed)[0].name, name);
      EXPECT_EQ((*listed)[0].epoch, last);
      c.Release(**got);
    }
    // Epochs are per name.
    auto other = a->TryAcquire("another");
    ASSERT_TRUE(other.ok() && other->has_value());
    EXPECT_EQ((*other)->epoch, 1);
  }
  // A worker that starts later continues from the stored epoch.
  auto c = Connect("c");
  ASSERT_TRUE(c);
  auto got = c->TryAcquire(name);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->epoch, last + 1);
}

// The lease holder is a real process, killed with SIGKILL: no goodbye to ZooKeeper, its socket just closes.
TEST_F(CoordinatorTest, KilledWorkerLosesItsLeaseAndRegistrationWithinTheLeaseTimeout) {
  // fork() copies only the calling thread: the child must come from a process without other threads (no
  // Coordinator alive here yet), or it could inherit a lock held by a thread that does not exist in it.
  {
    std::ifstream status("/proc/self/status");
    std::string line, threads;
    while (std::getline(status, line)) {
      if (line.rfind("Threads:", 0) == 0) threads = line;
    }
    ASSERT_EQ(threads, "Threads:\t1");
  }
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  Config config = MakeConfig();
  pid_t parent = getpid();
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(2);
    close(fds[0]);
    auto c = Coordinator::Connect(config, "doomed");
    if (!c.ok()) _exit(3);
    if (!(*c)->Publish(R"({"partitions":["tracking/0","tracking/1"]})").ok()) _exit(4);
    auto got = (*c)->TryAcquire("transform:tracking_hourly");
    if (!got.ok() || !got->has_value()) _exit(5);
    int64_t epoch = (*got)->epoch;
    if (write(fds[1], &epoch, sizeof epoch) != sizeof epoch) _exit(6);
    while (true) pause();
  }
  close(fds[1]);
  pollfd pfd{fds[0], POLLIN, 0};
  int64_t child_epoch = 0;
  bool heard = poll(&pfd, 1, 20'000) == 1 && read(fds[0], &child_epoch, sizeof child_epoch) == sizeof child_epoch;
  close(fds[0]);
  if (!heard) {
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    FAIL() << "the child worker did not acquire the lease (exit status " << WEXITSTATUS(status) << ")";
  }
  EXPECT_EQ(child_epoch, 1);

  Metrics metrics;
  auto survivor = Connect("survivor", &metrics);
  ASSERT_TRUE(survivor);
  auto workers = survivor->Workers();
  ASSERT_TRUE(workers.ok()) << workers.status().ToString();
  ASSERT_EQ(workers->size(), 2u);
  EXPECT_EQ((*workers)[0].name, "doomed");
  EXPECT_EQ((*workers)[0].status_json, R"({"partitions":["tracking/0","tracking/1"]})");
  auto held = survivor->TryAcquire("transform:tracking_hourly");
  ASSERT_TRUE(held.ok());
  EXPECT_FALSE(held->has_value());

  ASSERT_EQ(kill(child, SIGKILL), 0);
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
  auto killed = Clock::now();
  std::optional<Lease> lease;
  while (!lease && SecondsSince(killed) < 15) {
    auto got = survivor->TryAcquire("transform:tracking_hourly");
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    lease = *got;
    if (!lease) std::this_thread::sleep_for(milliseconds(50));
  }
  double took = SecondsSince(killed);
  ASSERT_TRUE(lease) << "no takeover within 15 s";
  // Not at once (the session outlives its socket), and within the lease timeout plus ZooKeeper's tick rounding.
  EXPECT_GE(took, 1.0);
  EXPECT_LE(took, kTestLeaseTimeoutUs / 1e6 + 1.5);
  EXPECT_EQ(lease->epoch, child_epoch + 1);
  EXPECT_TRUE(survivor->Fence(*lease).ok());
  // The registry dropped it together (same session).
  workers = survivor->Workers();
  ASSERT_TRUE(workers.ok());
  ASSERT_EQ(workers->size(), 1u);
  EXPECT_EQ((*workers)[0].name, "survivor");
}

// The classic way to expire a session: a second client joins it with its id and password, then closes it.
TEST_F(CoordinatorTest, StaleOwnerCannotFenceAfterItsSessionExpired) {
  Metrics metrics;
  auto a = Connect("a", &metrics);
  auto b = Connect("b", &metrics);
  ASSERT_TRUE(a && b);
  auto got = a->TryAcquire("transform:tracking_daily");
  ASSERT_TRUE(got.ok() && got->has_value());
  Lease stale = **got;
  ASSERT_TRUE(a->Holds(stale));

  ZooKeeperSession session = a->session();
  clientid_t id{};
  id.client_id = session.id;
  ASSERT_EQ(session.password.size(), sizeof id.passwd);
  std::memcpy(id.passwd, session.password.data(), sizeof id.passwd);
  zhandle_t* twin = RawZooKeeperClient(zookeeper_->address(), &id);
  ASSERT_NE(twin, nullptr);
  zookeeper_close(twin);  // closes the session: a's ephemeral nodes go

  auto expired = Clock::now();
  std::optional<Lease> taken;
  while (!taken && SecondsSince(expired) < 10) {
    auto r = b->TryAcquire("transform:tracking_daily");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    taken = *r;
    if (!taken) std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_TRUE(taken);
  EXPECT_LT(SecondsSince(expired), 2.0);  // a closed session frees its leases at once
  EXPECT_EQ(taken->epoch, stale.epoch + 1);

  // ZooKeeper closed a's socket with the session, so a may still be reconnecting: a fence it cannot confirm says
  // Retry (do not commit now), as a committing caller would see it, and never Ok; once a hears back, Stale.
  Status fenced = a->Fence(stale);
  auto reconnecting = Clock::now();
  while (fenced.IsRetry() && SecondsSince(reconnecting) < 10) {
    std::this_thread::sleep_for(milliseconds(50));
    fenced = a->Fence(stale);
  }
  EXPECT_TRUE(fenced.IsStale()) << fenced.ToString();
  EXPECT_FALSE(a->Holds(stale));
  EXPECT_TRUE(b->Fence(*taken).ok());
  EXPECT_EQ(metrics.Get("sluice_lease_fence_refusals_total", "worker=\"a\""), 1);
  EXPECT_EQ(metrics.Get("sluice_lease_losses_total", "worker=\"a\""), 1);
  EXPECT_EQ(metrics.Get("sluice_leases_held", "worker=\"a\""), 0);

  // a notices the expiry, opens a new session and registers again.
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (metrics.Get("sluice_zookeeper_session_expiries_total", "worker=\"a\"") == 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_EQ(metrics.Get("sluice_zookeeper_session_expiries_total", "worker=\"a\""), 1);
  bool registered = false;
  while (!registered && Clock::now() < deadline) {
    auto workers = b->Workers();
    ASSERT_TRUE(workers.ok());
    for (const WorkerInfo& w : *workers) registered |= w.name == "a";
    if (!registered) std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_TRUE(registered);
  EXPECT_NE(a->session().id, session.id);
  auto retry = a->TryAcquire("transform:tracking_daily");
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  EXPECT_FALSE(retry->has_value());  // b holds it
  EXPECT_TRUE(a->Publish(R"({"after":"expiry"})").ok());
}

// Fence asks ZooKeeper: here a's lease is deleted behind its back (a cannot know locally) and b acquires.
TEST_F(CoordinatorTest, FenceIsDecidedByZooKeeperNotByLocalState) {
  auto a = Connect("a");
  auto b = Connect("b");
  ASSERT_TRUE(a && b);
  auto got = a->TryAcquire("plain");
  ASSERT_TRUE(got.ok() && got->has_value());
  zhandle_t* admin = RawZooKeeperClient(zookeeper_->address());
  ASSERT_NE(admin, nullptr);
  std::string path = MakeConfig().coordination_root + "/leases/plain";
  EXPECT_EQ(zoo_delete(admin, path.c_str(), -1), ZOK);
  zookeeper_close(admin);
  auto taken = b->TryAcquire("plain");
  ASSERT_TRUE(taken.ok() && taken->has_value());

  Status fenced = a->Fence(**got);
  EXPECT_TRUE(fenced.IsStale()) << fenced.ToString();
  EXPECT_FALSE(a->Holds(**got));
  EXPECT_TRUE(b->Fence(**taken).ok());
}

TEST_F(CoordinatorTest, RegistryListsLiveWorkersWithTheirPublishedStatus) {
  auto a = Connect("host-1:4242");
  auto b = Connect("b");
  auto observer = Connect("");
  ASSERT_TRUE(a && b && observer);
  ASSERT_TRUE(a->Publish(R"({"partitions":["tracking/0"],"leases":[]})").ok());

  auto workers = observer->Workers();
  ASSERT_TRUE(workers.ok()) << workers.status().ToString();
  ASSERT_EQ(workers->size(), 2u);
  EXPECT_EQ((*workers)[0].name, "b");
  EXPECT_EQ((*workers)[0].status_json, "{}");
  EXPECT_EQ((*workers)[1].name, "host-1:4242");
  EXPECT_EQ((*workers)[1].status_json, R"({"partitions":["tracking/0"],"leases":[]})");
  EXPECT_NEAR(static_cast<double>((*workers)[1].since_us), static_cast<double>(NowMicros()), 60e6);

  b.reset();  // a clean stop closes the session: gone at once
  workers = observer->Workers();
  ASSERT_TRUE(workers.ok());
  ASSERT_EQ(workers->size(), 1u);
  EXPECT_EQ((*workers)[0].name, "host-1:4242");

  // An observer reads; it cannot hold leases or publish.
  EXPECT_TRUE(observer->TryAcquire("x").status().IsInvalid());
  EXPECT_TRUE(observer->Publish("{}").IsInvalid());
}

TEST_F(CoordinatorTest, DuplicateWorkerNameIsRefusedWhileTheFirstLives) {
  auto first = Connect("w");
  ASSERT_TRUE(first);
  auto started = Clock::now();
  auto second = Coordinator::Connect(MakeConfig(), "w");
  double took = SecondsSince(started);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kAlreadyExists) << second.status().ToString();
  EXPECT_THAT(second.status().message(), HasSubstr("'w'"));
  // It waited for a possibly dead predecessor's session, bounded by the lease timeout.
  EXPECT_LE(took, kTestLeaseTimeoutUs / 1e6 + 4);
  EXPECT_TRUE(first->Publish(R"({"still":"here"})").ok());

  first.reset();
  started = Clock::now();
  auto third = Coordinator::Connect(MakeConfig(), "w");
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_LT(SecondsSince(started), 2.0);
}

TEST_F(CoordinatorTest, UnreachableZooKeeperFailsConnectWithinTheTimeout) {
  auto ports = FreeLoopbackPorts(1);
  ASSERT_TRUE(ports.ok());
  Config config = MakeConfig();
  config.zookeeper = "127.0.0.1:" + std::to_string((*ports)[0]);  // nothing listens there
  config.lease_timeout_us = 2'000'000;
  auto started = Clock::now();
  auto c = Coordinator::Connect(config, "w");
  double took = SecondsSince(started);
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(c.status().IsRetry()) << c.status().ToString();
  EXPECT_THAT(c.status().message(), HasSubstr(config.zookeeper));
  EXPECT_THAT(c.status().message(), HasSubstr("unreachable"));
  EXPECT_GE(took, 1.9);
  EXPECT_LE(took, 4.0);

  config.zookeeper = "";
  EXPECT_TRUE(Coordinator::Connect(config, "w").status().IsInvalid());
}

// Holds is local but time-bounded. ZooKeeper frozen (SIGSTOP): the connection stays up, nothing answers, and
// Holds turns false from the age of the last confirmation, before the session could have expired.
TEST_F(CoordinatorTest, HoldsTurnsFalseWhenZooKeeperStopsAnswering) {
  auto own = ZooKeeperTestServer::Start();
  ASSERT_TRUE(own.ok()) << own.status().ToString();
  Config config = MakeConfig();
  config.zookeeper = (*own)->address();
  auto c = Coordinator::Connect(config, "w");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto got = (*c)->TryAcquire("t");
  ASSERT_TRUE(got.ok() && got->has_value());
  ASSERT_TRUE((*c)->Holds(**got));

  ASSERT_EQ(kill((*own)->pid(), SIGSTOP), 0);
  auto frozen = Clock::now();
  while ((*c)->Holds(**got) && SecondsSince(frozen) < 10) std::this_thread::sleep_for(milliseconds(20));
  double took = SecondsSince(frozen);
  EXPECT_FALSE((*c)->Holds(**got));
  // 2/3 of the 4 s timeout after the last confirmation, which is at most one heartbeat (timeout / 6) old.
  EXPECT_GE(took, kTestLeaseTimeoutUs / 1e6 * (2.0 / 3 - 1.0 / 6) - 0.2);
  EXPECT_LE(took, kTestLeaseTimeoutUs / 1e6 * 2 / 3 + 0.2);
  Status fenced = (*c)->Fence(**got);
  EXPECT_TRUE(fenced.IsRetry()) << fenced.ToString();  // unknown, not refused: do not commit now
  kill((*own)->pid(), SIGCONT);
}

}  // namespace
}  // namespace sluice
