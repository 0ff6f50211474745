// sluice collect -c FILE NAME --dry-run [--limit N]: run a collector against the live API and print what it
// would load (the first rows per table, as `sluice query` prints them, with the columns and their types),
// what its rows hold that `fields:` does not map yet, the pages it followed and the API's rate-limit state.
// Nothing is written and the warehouse is not opened (collect/collector_preview.h). Request headers and tokens
// are never printed; URLs are redacted.
#include <cstdio>
#include <string>

#include "cli/cli.h"
#include "collect/collect_json.h"
#include "collect/collector_preview.h"
#include "serve/format.h"

namespace sluice::cli {
namespace {

using nlohmann::json;

std::optional<std::string> Cell(const json& v) {
  if (v.is_null()) return std::nullopt;
  if (v.is_string()) return v.get<std::string>();
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string Bytes(size_t n) {
  char buf[32];
  if (n < 10'000) return std::to_string(n) + " B";
  std::snprintf(buf, sizeof buf, "%.1f KB", static_cast<double>(n) / 1024);
  return buf;
}

bool Stamped(const std::string& column) { return column == "collected_at" || column == "run_id"; }

void PrintTable(const TablePreview& t, size_t limit) {
  std::string key;
  for (const std::string& k : t.table.key) key += (key.empty() ? "" : ", ") + k;
  std::printf("\ntable %s: %zu row%s would be upserted by key (%s)\n", t.table.name.c_str(), t.rows.size(),
              t.rows.size() == 1 ? "" : "s", key.c_str());
  std::string columns;
  for (const Field& f : t.table.columns) columns += (columns.empty() ? "" : ", ") + f.name + " " + f.type.Describe();
  std::printf("columns: %s\n", columns.c_str());
  if (t.rows.empty()) return;
  // collected_at and run_id are the same in every row of a run: left out to keep the sample narrow.
  QueryResult sample;
  for (const Field& f : t.table.columns) {
    if (Stamped(f.name)) continue;
    sample.columns.push_back(f.name);
    sample.types.push_back(f.type.SqlType());
  }
  for (size_t i = 0; i < t.rows.size() && i < limit; ++i) {
    std::vector<std::optional<std::string>> cells;
    for (const Field& f : t.table.columns) {
      if (Stamped(f.name)) continue;
      cells.push_back(t.rows[i].contains(f.name) ? Cell(t.rows[i][f.name]) : std::nullopt);
    }
    sample.rows.push_back(std::move(cells));
  }
  std::fputs(FormatTable(sample, TerminalWidth()).c_str(), stdout);
  if (t.rows.size() > limit) std::printf("... and %zu more (--limit N shows more)\n", t.rows.size() - limit);
}

void PrintRowMembers(const CollectorConfig& c, const CollectorPreview& p) {
  const std::vector<RowMember>& members = p.row_members;
  std::printf("\nrows: %s selects row objects holding:\n", c.http_json.rows.c_str());
  if (members.empty()) {
    std::string top;
    for (const std::string& m : p.page_members) top += (top.empty() ? "" : ", ") + m;
    std::printf("  nothing: no page held an object at %s; the first page holds: %s\n", c.http_json.rows.c_str(),
                top.empty() ? "no good page" : top.c_str());
    return;
  }
  QueryResult r;
  r.columns = {"member", "type", "in fields", "example"};
  r.types = {"VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR"};
  std::string unmapped;
  for (const RowMember& m : members) {
    r.rows.push_back({m.name, m.type, std::string(m.mapped ? "yes" : "no"), m.example});
    if (!m.mapped) unmapped += (unmapped.empty() ? "" : ", ") + m.name + ": " + m.type;
  }
  std::fputs(FormatTable(r, TerminalWidth()).c_str(), stdout);
  if (!unmapped.empty()) std::printf("not in fields yet (types as the values suggest): { %s }\n", unmapped.c_str());
}

}  // namespace

int CollectDryRun(const CollectorConfig& collector, size_t limit) {
  const TimePoint now = Clock::Real()->Now();
  auto preview = PreviewCollector(collector, now);
  if (!preview.ok()) {
    std::fprintf(stderr, "collector %s: dry run failed: %s\n", collector.name.c_str(),
                 preview.status().message().c_str());
    return 1;
  }
  const CollectorPreview& p = *preview;
  std::printf("collector %s (%s), dry run for %s: nothing was written\n", collector.name.c_str(),
              collector.kind.c_str(), SqlDate(now).c_str());

  std::printf("\npages followed: %zu\n", p.pages.size());
  for (const PagePreview& page : p.pages)
    std::printf("  %d%s  %9s  %s\n", page.status, page.from_cache ? " (304, cached body)" : "",
                Bytes(page.bytes).c_str(), page.url.c_str());
  if (!p.rate_limit) {
    std::printf("rate limit: the API sent no rate-limit headers\n");
  } else {
    const RateLimitState& s = *p.rate_limit;
    std::printf("rate limit: %s of %s remaining", s.remaining.empty() ? "?" : s.remaining.c_str(),
                s.limit.empty() ? "?" : s.limit.c_str());
    if (!s.reset_at.empty()) std::printf(", resets %s", s.reset_at.c_str());
    if (!s.retry_after.empty()) std::printf(", retry after %s", s.retry_after.c_str());
    std::printf("  (last response: %s)\n", s.url.c_str());
  }

  for (const TablePreview& t : p.tables) PrintTable(t, limit);
  if (collector.kind == "http_json") PrintRowMembers(collector, p);

  if (!p.notes.empty()) std::printf("\n");
  for (const std::string& note : p.notes) std::printf("note: %s\n", note.c_str());
  if (p.failed.empty()) return 0;
  std::printf("\na real run would be %s; failed:\n", p.parts_ok == 0 ? "failed" : "partial");
  for (const std::string& f : p.failed) std::printf("  %s\n", f.c_str());
  return 1;
}

}  // namespace sluice::cli
