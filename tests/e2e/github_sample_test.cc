// The real hour of GitHub events (../shared/data): nested actor/repo as structs, payload as JSON, created_at
// as event time; all 8,273 events load, with the per-type counts its README lists.
#include "harness.h"

namespace sluice::e2e {
namespace {

class GithubSampleTest : public ScratchDir {};

TEST_F(GithubSampleTest, LoadsEveryEventWithNestedColumnsAndTheDocumentedCounts) {
  std::string sample = GithubSamplePath();
  if (sample.empty()) GTEST_SKIP() << "../shared/data is not beside the checkout";
  std::string config = Write("sluice.yaml", R"(warehouse: { path: wh.duckdb }
landing: { path: landing }
streams:
  github_events:
    event_time: created_at
    schema:
      id: string
      type: string
      actor: { id: int64, login: string, gravatar_id: string, url: string, avatar_url: string }
      repo: { id: int64, name: string, url: string }
      payload: json
      public: bool
      created_at: timestamp
    sources:
      - { kind: file, path: ")" + sample + R"(" }
    batch: { max_records: 3000 }
)");
  CommandResult r = RunSluice({"ingest", "-c", config, "--once", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("loaded 8273, dead-lettered 0"), std::string::npos) << r.output;
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM raw_github_events"), "8273");
  EXPECT_EQ(QueryScalar(config, "SELECT string_agg(type || '=' || n, ',' ORDER BY n DESC, type) FROM "
                                "(SELECT type, count(*) n FROM raw_github_events GROUP BY type)"),
            "PushEvent=4284,WatchEvent=994,CreateEvent=981,IssueCommentEvent=574,PullRequestEvent=367,"
            "IssuesEvent=361,ForkEvent=285,DeleteEvent=156,GollumEvent=123,PullRequestReviewCommentEvent=50,"
            "CommitCommentEvent=41,ReleaseEvent=30,MemberEvent=17,PublicEvent=10");
  EXPECT_EQ(QueryScalar(config, "SELECT min(created_at) || ' ' || max(created_at) FROM raw_github_events"),
            "2015-01-01 12:00:01 2015-01-01 12:59:59");
  // Nested structs are real struct columns, payload is queryable JSON, and `org` (undeclared) went to _extra.
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM raw_github_events WHERE actor.login IS NULL OR repo.name IS NULL"),
            "0");
  EXPECT_EQ(QueryScalar(config, "SELECT typeof(actor) FROM raw_github_events LIMIT 1"),
            "STRUCT(id BIGINT, login VARCHAR, gravatar_id VARCHAR, url VARCHAR, avatar_url VARCHAR)");
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM raw_github_events WHERE type = 'PushEvent' AND "
                                "(payload->>'$.size') IS NOT NULL"),
            "4284");
  std::string with_org = QueryScalar(config, "SELECT count(*) FROM raw_github_events WHERE (_extra->'org') IS NOT NULL");
  EXPECT_GT(std::stoi(with_org), 0);
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM raw_github_events WHERE event_date = DATE '2015-01-01'"), "8273");
  // Each batch was landed; the ledger knows every event hour it touched.
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM _sluice_batches"), "3");
  EXPECT_EQ(QueryScalar(config, "SELECT sum(rows) FROM _sluice_batches"), "8273");
  EXPECT_EQ(QueryScalar(config, "SELECT list_distinct(flatten(list(event_hours)))::VARCHAR FROM _sluice_batches"),
            "['2015-01-01 12:00:00']");
  int landed = 0;
  for (auto& e : std::filesystem::recursive_directory_iterator(Path("landing")))
    landed += e.path().string().ends_with(".ndjson.zst");
  EXPECT_EQ(landed, 3);

  // status reports the stream's watermark (newest event minus the default 6h lateness) and open hours.
  CommandResult st = RunSluice({"status", "-c", config});
  ASSERT_EQ(st.exit_code, 0) << st.output;
  EXPECT_NE(st.output.find("2015-01-01 12:59:59  2015-01-01 06:59:59"), std::string::npos) << st.output;

  // Running again reads nothing new: the checkpoint is the file's end.
  r = RunSluice({"ingest", "-c", config, "--once", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM raw_github_events"), "8273");
}

}  // namespace
}  // namespace sluice::e2e
