#include "landing/landing_reader.h"

#include <simdjson.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/record_parser.h"
#include "core/time.h"
#include "landing/landing_store.h"

namespace sluice {

namespace {

constexpr std::string_view kManifestSuffix = ".manifest.json";

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Io("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

Result<std::vector<LandedBatch>> LandingReader::List(const std::string& stream,
                                                     const std::optional<std::string>& from_day,
                                                     const std::optional<std::string>& to_day) const {
  namespace fs = std::filesystem;
  std::vector<LandedBatch> out;
  fs::path dir = fs::path(root_) / stream;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& day_entry : fs::directory_iterator(dir, ec)) {
    std::string name = day_entry.path().filename().string();
    if (!day_entry.is_directory() || name.rfind("dt=", 0) != 0) continue;
    std::string day = name.substr(3);
    // ISO days compare as strings.
    if ((from_day && day < *from_day) || (to_day && day > *to_day)) continue;
    for (const auto& f : fs::directory_iterator(day_entry.path(), ec)) {
      std::string file = f.path().filename().string();
      if (file.size() <= kManifestSuffix.size() ||
          file.compare(file.size() - kManifestSuffix.size(), kManifestSuffix.size(), kManifestSuffix) != 0)
        continue;
      LandedBatch b;
      b.day = day;
      b.batch_id = file.substr(0, file.size() - kManifestSuffix.size());
      b.manifest_path = f.path().string();
      b.data_path = (day_entry.path() / (b.batch_id + ".ndjson.zst")).string();
      b.positions_path = (day_entry.path() / (b.batch_id + ".positions.zst")).string();
      out.push_back(std::move(b));
    }
  }
  if (ec) return Status::Io("cannot list " + dir.string() + ": " + ec.message());
  std::sort(out.begin(), out.end(), [](const LandedBatch& a, const LandedBatch& b) {
    return std::tie(a.day, a.batch_id) < std::tie(b.day, b.batch_id);
  });
  return out;
}

Result<Batch> LandingReader::Rebuild(const LandedBatch& landed, const StreamConfig* stream) {
  ASSIGN_OR_RETURN(std::string manifest_text, ReadFile(landed.manifest_path));
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
  ASSIGN_OR_RETURN(std::string data_z, ReadFile(landed.data_path));
  ASSIGN_OR_RETURN(std::string positions_z, ReadFile(landed.positions_path));
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
