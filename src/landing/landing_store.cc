#include "landing/landing_store.h"

#include <zstd.h>

#include <algorithm>

#include "core/record_parser.h"
#include "core/time.h"

namespace sluice {

std::string ZstdCompress(std::string_view data, int level) {
  thread_local ZSTD_CCtx* ctx = ZSTD_createCCtx();
  ZSTD_CCtx_reset(ctx, ZSTD_reset_session_and_parameters);
  ZSTD_CCtx_setParameter(ctx, ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setPledgedSrcSize(ctx, data.size());
  // Grown as it fills, not sized to the worst case: NDJSON shrinks ~15x, and zero-filling a bound the
  // size of the input cost as much as compressing it.
  std::string out(data.size() / 8 + 4096, '\0');
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  size_t used = 0;
  while (true) {
    ZSTD_outBuffer o{out.data() + used, out.size() - used, 0};
    size_t left = ZSTD_compressStream2(ctx, &o, &in, ZSTD_e_end);
    used += o.pos;
    if (ZSTD_isError(left)) return "";
    if (left == 0) break;
    out.resize(out.size() + std::max(left, out.size() / 2));
  }
  out.resize(used);
  return out;
}

Result<std::string> ZstdDecompress(std::string_view data) {
  std::string out;
  ZSTD_DStream* ds = ZSTD_createDStream();
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  std::string buf(ZSTD_DStreamOutSize(), '\0');
  while (in.pos < in.size) {
    ZSTD_outBuffer o{buf.data(), buf.size(), 0};
    size_t r = ZSTD_decompressStream(ds, &o, &in);
    if (ZSTD_isError(r)) {
      ZSTD_freeDStream(ds);
      return Status::Invalid(std::string("zstd: ") + ZSTD_getErrorName(r));
    }
    out.append(buf.data(), o.pos);
  }
  ZSTD_freeDStream(ds);
  return out;
}

Result<std::string> LandingStore::Land(const Batch& batch) const {
  const std::string stem =
      batch.stream().name + "/dt=" + FormatIsoDate(DayOf(batch.received_at_us)) + "/" + batch.id;
  std::string manifest = "{\"batch_id\":";
  AppendJsonString(manifest, batch.id);
  manifest += ",\"stream\":";
  AppendJsonString(manifest, batch.stream().name);
  manifest += ",\"source\":";
  AppendJsonString(manifest, batch.source);
  manifest += ",\"received_at\":\"" + FormatIsoMicros(batch.received_at_us) + "\"";
  manifest += ",\"records\":" + std::to_string(batch.read_records) + ",\"partitions\":{";
  bool first = true;
  for (const auto& [p, r] : batch.ranges) {
    if (!first) manifest += ",";
    first = false;
    AppendJsonString(manifest, p);
    manifest += ":{\"first\":" + std::to_string(r.first) + ",\"next\":" + std::to_string(r.next) +
                ",\"records\":" + std::to_string(r.records) + "}";
  }
  manifest += "}}\n";
  // Where each landed line came from ("<partition index> <offset>" per line, dead letters included), so
  // backfill reloads every record at its original position and idempotency by position holds.
  std::string positions;
  positions.reserve(batch.read_records * 12);
  for (const auto& [p, i] : batch.landed_positions) positions += std::to_string(p) + " " + std::to_string(i) + "\n";
  manifest.insert(manifest.size() - 2, ",\"partition_names\":[");
  for (size_t i = 0; i < batch.partition_names.size(); ++i) {
    std::string name;
    AppendJsonString(name, batch.partition_names[i]);
    manifest.insert(manifest.size() - 2, (i ? "," : "") + name);
  }
  manifest.insert(manifest.size() - 2, "]");
  const std::string data_z = ZstdCompress(batch.landing_data);
  const std::string positions_z = ZstdCompress(positions);
  ASSIGN_OR_RETURN(std::string landed, PutVersioned(*store_, stem,
                                                    {{".ndjson.zst", data_z},
                                                     {".positions.zst", positions_z},
                                                     {".manifest.json", manifest}}));
  return store_->Locator(landed + ".ndjson.zst");
}

}  // namespace sluice
