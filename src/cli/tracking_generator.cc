#include "cli/tracking_generator.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/time.h"

namespace sluice {
namespace {

const char* const kStages[] = {"start", "firstQuartile", "midpoint", "thirdQuartile", "complete"};
const char* const kUserAgents[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
};
const char* const kCountries[] = {"US", "FR", "GB", "DE", "JP", "BR", "IN", "ES", "IT", "CA", "MX", "AU"};

std::vector<double> ZipfCdf(int n, double s) {
  std::vector<double> cdf(n);
  double sum = 0;
  for (int i = 0; i < n; ++i) cdf[i] = (sum += 1.0 / std::pow(i + 1, s));
  for (auto& c : cdf) c /= sum;
  return cdf;
}

}  // namespace

TrackingGenerator::TrackingGenerator(TrackingGeneratorOptions o)
    : opt_(o), rng_(o.seed), ad_cdf_(ZipfCdf(o.ads, 1.1)), site_cdf_(ZipfCdf(o.websites, 1.0)), clock_us_(o.start_us) {}

int TrackingGenerator::Zipf(const std::vector<double>& cdf) {
  double u = std::uniform_real_distribution<double>(0, 1)(rng_);
  return static_cast<int>(std::lower_bound(cdf.begin(), cdf.end(), u) - cdf.begin());
}

void TrackingGenerator::Next(std::string& out) {
  std::uniform_real_distribution<double> u(0, 1);
  if (stage_ > last_stage_) {
    // A new session: how far the viewer will watch (funnel drop-off).
    stage_ = 0;
    double r = u(rng_);
    last_stage_ = r < 0.2 ? 0 : r < 0.35 ? 1 : r < 0.45 ? 2 : r < 0.5 ? 3 : 4;
    ad_ = Zipf(ad_cdf_) + 1;
    site_ = Zipf(site_cdf_) + 1;
    ua_ = static_cast<int>(u(rng_) * 5);
    country_ = std::min(11, static_cast<int>(std::pow(u(rng_), 2) * 12));
    session_ = rng_();
  }
  const char* event;
  double r = u(rng_);
  if (r < 0.03) event = "click";
  else if (r < 0.04) event = "pause";
  else if (r < 0.045) event = "mute";
  else event = kStages[stage_++];
  clock_us_ += static_cast<int64_t>(1e6 / opt_.events_per_second);
  int64_t ts = clock_us_;
  if (u(rng_) < opt_.late_fraction) ts -= static_cast<int64_t>(u(rng_) * opt_.max_late_us);
  char buf[512];
  int n = std::snprintf(buf, sizeof buf,
                        "{\"ts\":\"%s\",\"ad_id\":%d,\"website_id\":%d,\"event\":\"%s\",\"session\":\"%016llx\","
                        "\"country\":\"%s\",\"ua\":\"%s\"}\n",
                        FormatIsoMicros(ts - ts % 1000).c_str(), ad_, site_, event,
                        static_cast<unsigned long long>(session_), kCountries[country_], kUserAgents[ua_]);
  out.append(buf, n);
}

}  // namespace sluice
