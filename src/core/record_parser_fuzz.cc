// libFuzzer target for RecordParser: any bytes must end as exactly one row or one dead letter, with every
// column the same length (no half-written record), and never crash. Run by scripts/fuzz.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/record_parser.h"

namespace {

const sluice::Config& FuzzConfig() {
  static const sluice::Config config = [] {
    auto c = sluice::ParseConfig(R"(
streams:
  f:
    event_time: ts
    max_record: 2048
    schema:
      ts: timestamp
      n: int64
      x: float64
      b: bool
      d: date
      s: string
      actor: { id: int64, login: string, nested: { deep: [int64] } }
      tags: [string]
      payload: json
    sources: [ { kind: http } ]
)",
                                 "fuzz.yaml");
    if (!c.ok()) std::abort();
    return std::move(*c);
  }();
  return config;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const sluice::StreamConfig* stream = &FuzzConfig().streams[0];
  static sluice::RecordParser parser(stream);
  sluice::Batch batch(stream);
  batch.source = "fuzz";
  uint32_t part = batch.PartitionIndex("p");
  std::string_view record(reinterpret_cast<const char*>(data), size);
  bool ok = parser.Parse(record, part, 0, 1, batch);
  if (batch.rows() + batch.dead_letters.size() != 1) std::abort();
  if (ok != (batch.rows() == 1)) std::abort();
  for (const auto& col : batch.columns)
    if (col.size() != batch.rows()) std::abort();
  if (batch.extra.size() != batch.rows()) std::abort();
  return 0;
}
