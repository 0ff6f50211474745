// The signer against vectors made by botocore, AWS's own Python signer (Debian's python3-botocore): S3 requests
// as landing sends them (object keys and query values with special characters, ListObjectsV2 with a
// continuation token, empty and non-empty payloads, UNSIGNED-PAYLOAD, a session token, header values that
// need trimming, region "auto" for Google Cloud Storage) and two non-S3 requests. Expected values are
// botocore's, not outputs of this code; sigv4_test.cc checks AWS's published suite.
//
// The fixture is src/landing/testdata/sigv4_botocore_vectors.json. To regenerate it (fixed credentials and
// times, so the same botocore gives the same file):
//   python3 tests/sigv4/make_botocore_vectors.py > src/landing/testdata/sigv4_botocore_vectors.json
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "landing/sigv4.h"

namespace sluice::sigv4 {
namespace {

nlohmann::json LoadVectors() {
  const std::string path = std::string(SLUICE_SOURCE_DIR) + "/src/landing/testdata/sigv4_botocore_vectors.json";
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot read " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return nlohmann::json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
}

class BotocoreVector : public ::testing::TestWithParam<size_t> {
 protected:
  static const nlohmann::json& Vectors() {
    static const nlohmann::json vectors = LoadVectors()["vectors"];
    return vectors;
  }
};

TEST(BotocoreVectors, TheFixtureHoldsEveryCase) {
  const nlohmann::json all = LoadVectors();
  ASSERT_TRUE(all.is_object());
  EXPECT_EQ(all["vectors"].size(), 11u);
}

TEST_P(BotocoreVector, OurSignerReproducesBotocore) {
  const nlohmann::json& v = Vectors().at(GetParam());
  SCOPED_TRACE(v["name"].get<std::string>());
  Request r;
  r.method = v["method"];
  r.path = v["path"];
  for (const auto& q : v["query"]) r.query.emplace_back(q[0], q[1]);
  for (const auto& h : v["headers"]) r.headers.emplace_back(h[0], h[1]);
  r.payload_hash = v["payload_hash"];
  const Credentials credentials{v["access_key"], v["secret_key"], v["session_token"]};
  // No x-amz-date in the request: the signer takes the time given and adds the header itself.
  const Signed s = Sign(r, credentials, v["region"].get<std::string>(), v["service"].get<std::string>(),
                        FromUnixSeconds(v["unix_time"].get<int64_t>()));
  const nlohmann::json& want = v["expected"];
  EXPECT_EQ(s.amz_date, want["amz_date"].get<std::string>());
  EXPECT_EQ(s.canonical_request, want["canonical_request"].get<std::string>());
  EXPECT_EQ(s.string_to_sign, want["string_to_sign"].get<std::string>());
  EXPECT_EQ(s.signature, want["signature"].get<std::string>());
  EXPECT_EQ(s.authorization, want["authorization"].get<std::string>());
}

INSTANTIATE_TEST_SUITE_P(Botocore, BotocoreVector, ::testing::Range<size_t>(0, 11),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           static const nlohmann::json vectors = LoadVectors()["vectors"];
                           return vectors.at(info.param)["name"].get<std::string>();
                         });

}  // namespace
}  // namespace sluice::sigv4
