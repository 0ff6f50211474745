// Every recipe under examples/collectors/ end to end: its recorded responses served on loopback, the recipe's
// own YAML (only base_url pointed at the server) run by `sluice collect`, every recorded page requested, the
// loaded rows checked against the values the recording's `checks` name, and a re-run that changes nothing.
// A recipe without a recording (or a recording without checks) fails here.
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>

#include "harness.h"
#include "recorded_api.h"

namespace sluice::e2e {
namespace {

using nlohmann::json;

class CollectorRecipesTest : public ScratchDir {
 protected:
  void SetUp() override {
    ScratchDir::SetUp();
    // The GitHub recipes read GITHUB_TOKEN: a developer's real token must not reach the test server.
    if (const char* t = std::getenv("GITHUB_TOKEN")) saved_token_ = t;
    ::unsetenv("GITHUB_TOKEN");
  }
  void TearDown() override {
    if (!saved_token_.empty()) ::setenv("GITHUB_TOKEN", saved_token_.c_str(), 1);
    ScratchDir::TearDown();
  }
  // A pipeline config holding the recipe's collector with base_url pointed at `base_url`.
  std::string ConfigFor(const std::string& name, const std::string& base_url) {
    YAML::Node recipe = YAML::LoadFile(RecipePath(name));
    YAML::Node collector = recipe["collectors"][name];
    collector["base_url"] = base_url;
    YAML::Node root;
    root["warehouse"]["kind"] = "duckdb";
    root["warehouse"]["path"] = Path(name + ".duckdb");
    root["landing"]["path"] = Path(name + "-landing");
    root["streams"] = YAML::Node(YAML::NodeType::Map);
    root["collectors"][name] = collector;
    YAML::Emitter out;
    out << root;
    return Write(name + ".yaml", out.c_str());
  }
  std::string saved_token_;
};

TEST_F(CollectorRecipesTest, EveryRecipeHasOneCollectorNamedAfterItsFileAndARecordingWithChecks) {
  const std::vector<std::string> names = RecipeNames();
  ASSERT_GE(names.size(), 8u);
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    YAML::Node recipe = YAML::LoadFile(RecipePath(name));
    ASSERT_TRUE(recipe["collectors"].IsMap());
    EXPECT_EQ(recipe["collectors"].size(), 1u);
    EXPECT_TRUE(recipe["collectors"][name].IsMap()) << "the collector must be named " << name;
    std::ifstream in(RecordingPath(name));
    ASSERT_TRUE(in.good()) << "no recording: add " << RecordingPath(name);
    json recording = json::parse(in, nullptr, false);
    ASSERT_FALSE(recording.is_discarded());
    EXPECT_FALSE(recording.value("api", "").empty()) << "say which API and documentation the recording follows";
    EXPECT_FALSE(recording.value("invented", "").empty()) << "say which values are invented";
    EXPECT_GE(recording["checks"].size(), 2u) << "check a count and a value a user would look at";
  }
  // And no recording without its recipe.
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(SLUICE_SOURCE_DIR) + "/examples/collectors/recordings")) {
    EXPECT_TRUE(std::filesystem::exists(RecipePath(e.path().stem().string()))) << e.path();
  }
}

TEST_F(CollectorRecipesTest, EveryRecipeLoadsItsRecordingAndARerunChangesNothing) {
  for (const std::string& name : RecipeNames()) {
    SCOPED_TRACE(name);
    RecordedApi api(RecordingPath(name));
    ASSERT_TRUE(api.ok()) << api.error();
    const std::string config = ConfigFor(name, api.base_url());

    CommandResult first = RunSluice({"collect", "-c", config, name});
    ASSERT_EQ(first.exit_code, 0) << first.output;
    EXPECT_NE(first.output.find("succeeded"), std::string::npos) << first.output;
    EXPECT_TRUE(api.Misses().empty()) << api.Misses()[0];
    // Every recorded page was asked for, once: pagination followed to the end.
    EXPECT_EQ(api.Hits(), std::vector<int>(api.recording()["responses"].size(), 1));

    for (const json& check : api.recording()["checks"]) {
      EXPECT_EQ(QueryScalar(config, check["sql"].get<std::string>()), check["expect"].get<std::string>())
          << check.value("what", "") << ": " << check["sql"];
    }

    // Re-running the day upserts the same rows by key: the table reads the same but for run ids and times.
    const std::string table_sql = "SELECT * EXCLUDE (collected_at, run_id) FROM " + name + " ORDER BY ALL";
    CommandResult before = RunSluice({"query", "-c", config, table_sql, "--format", "csv"});
    ASSERT_EQ(before.exit_code, 0) << before.output;
    CommandResult second = RunSluice({"collect", "-c", config, name});
    ASSERT_EQ(second.exit_code, 0) << second.output;
    CommandResult after = RunSluice({"query", "-c", config, table_sql, "--format", "csv"});
    EXPECT_EQ(after.output, before.output);
    EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM _sluice_runs WHERE status = 'succeeded'"), "2");
    EXPECT_TRUE(api.Authorizations().empty()) << "no token was set, none may be sent";
  }
}

}  // namespace
}  // namespace sluice::e2e
