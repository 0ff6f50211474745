#include "landing/landing_reader.h"

#include <simdjson.h>

#include <map>
#include <sstream>
#include <utility>

#include "core/record_parser.h"
#include "core/time.h"
#include "landing/landing_store.h"

namespace sluice {

namespace {

constexpr std::string_view kManifestSuffix = ".manifest.json";

}  // namespace

Result<std::vector<LandedBatch>> LandingReader::List(const std::string& stream,
                                                     const std::optional<std::string>& from_day,
                                                     const std::optional<std::string>& to_day) const {
  const std::string prefix = stream + "/dt=";
  ASSIGN_OR_RETURN(std::vector<std::string> keys, store_->List(prefix));
  // (day, batch id) -> the newest version's stem.
  std::map<std::pair<std::string, std::string>, std::pair<int, std::string>> newest;
  for (const std::string& key : keys) {
    // <stream>/dt=<day>/<stem>.manifest.json, nothing deeper.
    const size_t slash = key.find('/', prefix.size());
    if (slash == std::string::npos || key.find('/', slash + 1) != std::string::npos) continue;
    const std::string day = key.substr(prefix.size(), slash - prefix.size());
    const std::string file = key.substr(slash + 1);
    if (file.size() <= kManifestSuffix.size() ||
        file.compare(file.size() - kManifestSuffix.size(), kManifestSuffix.size(), kManifestSuffix) != 0)
      continue;
    // ISO days compare as strings.
    if ((from_day && day < *from_day) || (to_day && day > *to_day)) continue;
    const std::string stem = file.substr(0, file.size() - kManifestSuffix.size());
    std::string id;
    const int version = StemVersion(stem, &id);
    auto& slot = newest[{day, id}];
    if (version > slot.first) slot = {version, stem};
  }
  std::vector<LandedBatch> out;
  out.reserve(newest.size());
  for (const auto& [day_id, version] : newest) {
    const std::string folder = prefix + day_id.first + "/" + version.second;
    LandedBatch b;
    b.day = day_id.first;
    b.batch_id = day_id.second;
    b.manifest_key = folder + std::string(kManifestSuffix);
    b.data_key = folder + ".ndjson.zst";
    b.positions_key = folder + ".positions.zst";
    b.manifest_path = store_->Locator(b.manifest_key);
    b.data_path = store_->Locator(b.data_key);
    b.positions_path = store_->Locator(b.positions_key);
    out.push_back(std::move(b));
  }
  return out;  // by day, then batch id: the map's order
}

Result<Batch> LandingReader::Rebuild(const LandedBatch& landed, const StreamConfig* stream) const {
  ASSIGN_OR_RETURN(std::string manifest_text, store_->Get(landed.manifest_key));
  std::string id, source, received_at;
  std::vector<std::string> partition_names;
  std::map<std::string, PartitionRange> ranges;
  {
    simdjson::ondemand::parser parser;
    simdjson::padded_string padded(manifest_text);
    simdjson::ondemand::document doc;
    if (parser.iterate(padded).get(doc)) return Status::Invalid(landed.manifest_path + ": not JSON");
    std::string_view sv;
    if (doc["batch_id"].get_string().get(sv)) return Status::Invalid(landed.manifest_path + ": no batch_id");
    id = sv;
    if (doc["source"].get_string().get(sv)) return Status::Invalid(landed.manifest_path + ": no source");
    source = sv;
    if (doc["received_at"].get_string().get(sv)) return Status::Invalid(landed.manifest_path + ": no received_at");
    received_at = sv;
    simdjson::ondemand::array names;
    if (doc["partition_names"].get_array().get(names))
      return Status::Invalid(landed.manifest_path + ": no partition_names (landed before positions were kept)");
    for (auto v : names) {
      if (v.get_string().get(sv)) return Status::Invalid(landed.manifest_path + ": bad partition name");
      partition_names.emplace_back(sv);
    }
    simdjson::ondemand::object parts;
    if (doc["partitions"].get_object().get(parts)) return Status::Invalid(landed.manifest_path + ": no partitions");
    for (auto field : parts) {
      std::string_view key;
      simdjson::ondemand::object r;
      if (field.unescaped_key().get(key) || field.value().get_object().get(r))
        return Status::Invalid(landed.manifest_path + ": bad partitions");
      PartitionRange& range = ranges[std::string(key)];
      if (r["first"].get_int64().get(range.first) || r["next"].get_int64().get(range.next) ||
          r["records"].get_int64().get(range.records))
        return Status::Invalid(landed.manifest_path + ": bad partition range");
    }
  }
  ASSIGN_OR_RETURN(std::string data_z, store_->Get(landed.data_key));
  ASSIGN_OR_RETURN(std::string positions_z, store_->Get(landed.positions_key));
  ASSIGN_OR_RETURN(std::string data, ZstdDecompress(data_z));
  ASSIGN_OR_RETURN(std::string positions, ZstdDecompress(positions_z));

  Batch batch(stream);
  batch.source = source;
  auto received = ParseIsoMicros(received_at);
  if (!received) return Status::Invalid(landed.manifest_path + ": bad received_at '" + received_at + "'");
  batch.received_at_us = *received;
  // Indices follow the manifest's order, which is what the positions file refers to.
  for (const auto& n : partition_names) batch.PartitionIndex(n);
  RecordParser parser(stream);
  std::istringstream pos(positions);
  size_t start = 0;
  while (start < data.size()) {
    size_t end = data.find('\n', start);
    if (end == std::string::npos) end = data.size();
    std::string_view line(data.data() + start, end - start);
    start = end + 1;
    uint32_t p = 0;
    int64_t offset = 0;
    if (!(pos >> p >> offset) || p >= partition_names.size())
      return Status::Invalid(landed.positions_path + ": fewer positions than landed lines");
    parser.Parse(line, p, offset, offset + 1, batch);
  }
  // Offsets can be bytes (files), so only the manifest knows where each partition's next record starts.
  batch.ranges = std::move(ranges);
  batch.id = id;  // NoteRead derived one from the first record; the landed id is the one loaded before
  batch.landing_data = std::move(data);
  return batch;
}

}  // namespace sluice
