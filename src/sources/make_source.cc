#include "sources/file_source.h"
#if __has_include("sources/kafka_source.h")
#include "sources/kafka_source.h"
#define SLUICE_HAS_KAFKA 1
#endif

namespace sluice {

Result<std::unique_ptr<Source>> MakeSource(const StreamConfig* stream, const SourceConfig* config) {
  if (config->kind == "file") return std::unique_ptr<Source>(std::make_unique<FileSource>(stream, config));
#ifdef SLUICE_HAS_KAFKA
  if (config->kind == "kafka") return std::unique_ptr<Source>(std::make_unique<KafkaSource>(stream, config));
#endif
  return Status::Invalid("source kind '" + config->kind + "' is not created by MakeSource");
}

}  // namespace sluice
