// Test-only: a gtest fixture with one real standalone ZooKeeper per suite (ZooKeeperTestServer on a free
// loopback port, stopped by PID), a config whose coordination root is the test's own, and a raw ZooKeeper
// client for what a test does behind a Coordinator's back (expiring its session, deleting its nodes).
#pragma once

#include <gtest/gtest.h>
#include <zookeeper/zookeeper.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "coordination/coordinator.h"
#include "testing/zookeeper_test_server.h"

namespace sluice {

// Short, so that expiry is observed in bounded time (ZooKeeperTestServer's ticks allow 1 s to 10 s).
constexpr int64_t kTestLeaseTimeoutUs = 4'000'000;

inline void NoWatcher(zhandle_t*, int, int, const char*, void*) {}

// A connected raw client handle (joining `session` if given), or nullptr after 5 s. Close it with
// zookeeper_close.
inline zhandle_t* RawZooKeeperClient(const std::string& address, const clientid_t* session = nullptr) {
  zhandle_t* zh = zookeeper_init(address.c_str(), &NoWatcher, 4000, session, nullptr, 0);
  if (zh == nullptr) return nullptr;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (zoo_state(zh) != ZOO_CONNECTED_STATE && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (zoo_state(zh) != ZOO_CONNECTED_STATE) {
    zookeeper_close(zh);
    return nullptr;
  }
  return zh;
}

class ZooKeeperTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = ZooKeeperTestServer::Start();
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    zookeeper_ = std::move(started).value().release();
  }
  static void TearDownTestSuite() {
    delete zookeeper_;
    zookeeper_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(zookeeper_, nullptr) << "ZooKeeper did not start"; }

  // A config on the suite's ZooKeeper whose root is this test's own.
  static Config MakeConfig() {
    const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
    Config config;
    config.zookeeper = zookeeper_->address();
    config.coordination_root = std::string("/sluice-test/") + test->test_suite_name() + "/" + test->name();
    config.lease_timeout_us = kTestLeaseTimeoutUs;
    return config;
  }

  static std::unique_ptr<Coordinator> Connect(const std::string& worker, Metrics* metrics = nullptr) {
    auto c = Coordinator::Connect(MakeConfig(), worker, metrics);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }

  inline static ZooKeeperTestServer* zookeeper_ = nullptr;
};

}  // namespace sluice
