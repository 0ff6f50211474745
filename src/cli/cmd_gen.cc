#include <cstdio>
#include <filesystem>

#include "cli/cli.h"
#include "cli/tracking_generator.h"
#include "core/time.h"

namespace sluice::cli {

// sluice gen --events N --out FILE [--seed S] [--start ISO] [--bad N]: Teads-like tracking events as NDJSON.
// --bad adds N malformed lines (spread evenly) to exercise dead-lettering.
int Gen(const Args& args) {
  int64_t events = std::stoll(args.Get("events", "100000"));
  int64_t bad = std::stoll(args.Get("bad", "0"));
  std::string out_path = args.Get("out", "-");
  TrackingGeneratorOptions o;
  o.seed = std::stoull(args.Get("seed", "42"));
  o.start_us = ParseIsoMicros(args.Get("start", "2026-11-01T00:00:00Z")).value_or(0);
  o.events_per_second = std::stoll(args.Get("rate", "2000"));
  TrackingGenerator gen(o);
  if (out_path != "-") {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::absolute(out_path).parent_path(), ec);
  }
  FILE* f = out_path == "-" ? stdout : std::fopen(out_path.c_str(), "wb");
  if (!f) {
    std::fprintf(stderr, "cannot write %s\n", out_path.c_str());
    return 1;
  }
  static const char* const kBad[] = {"{\"ts\":\"2026-11-01T00:00:00Z\",\"ad_id\":\"seven\"}\n", "not json at all\n",
                                     "{\"ad_id\":1,\"event\":\"start\"}\n", "{\"ts\":\"yesterday\",\"ad_id\":1}\n"};
  int64_t bad_every = bad > 0 ? std::max<int64_t>(1, events / bad) : 0;
  std::string buf;
  int64_t bad_written = 0;
  for (int64_t i = 0; i < events; ++i) {
    gen.Next(buf);
    if (bad_every && i % bad_every == bad_every - 1 && bad_written < bad) buf += kBad[bad_written++ % 4];
    if (buf.size() > (1 << 20)) {
      std::fwrite(buf.data(), 1, buf.size(), f);
      buf.clear();
    }
  }
  std::fwrite(buf.data(), 1, buf.size(), f);
  if (f != stdout) std::fclose(f);
  std::fprintf(stderr, "wrote %lld events%s to %s\n", static_cast<long long>(events),
               bad ? (" and " + std::to_string(bad_written) + " malformed lines").c_str() : "", out_path.c_str());
  return 0;
}

}  // namespace sluice::cli
