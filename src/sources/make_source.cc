#include "sources/file_source.h"
#include "sources/kafka_source.h"

namespace sluice {

Result<std::unique_ptr<Source>> MakeSource(const StreamConfig* stream, const SourceConfig* config) {
  if (config->kind == "file") return std::unique_ptr<Source>(std::make_unique<FileSource>(stream, config));
  if (config->kind == "kafka") return std::unique_ptr<Source>(std::make_unique<KafkaSource>(stream, config));
  return Status::Invalid("source kind '" + config->kind + "' is not created by MakeSource");
}

}  // namespace sluice
