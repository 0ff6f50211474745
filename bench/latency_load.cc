// latency_load: the load client of bench/latency. Sends tracking-like events at a sustained rate, each stamped
// with the time it was due (`ts`, also the stream's event time), over HTTP (CLIENTS clients POSTing NDJSON to
// /ingest/<stream>, each sending what fell due since its last answer) or to Kafka (one librdkafka producer,
// round-robin over the topic's partitions). A poller asks the `sluice run` that loads them, through /api/query
// (a reader connection), for the newest sequence number of each producer; a producer's events become visible
// in order (an HTTP client sends its next body after the answer; a Kafka partition commits in offset order),
// so each event's latency is from its due time to the answer of the first poll that saw it.
// Before that, a short phase measures the maximum throughput the same way (HTTP: clients posting 1,000-event
// bodies back to back; Kafka: MAX_EVENTS produced at once, timed until all are queryable).
//   latency_load http  --port P --stream S [--clients 20] [--rate R] [--seconds S] [--max-seconds M] [--pid PID]
//   latency_load kafka --port P --stream S --brokers B --topic T [--partitions 16] [--max-events N]
//                      [--broker-pid PID] [...]
// With --pid (sluice run) and --broker-pid, it also prints their RSS and who kept the cores busy while timed.
// Prints key=value lines on stdout (bench/latency formats them); progress on stderr every 5 seconds.
#include <httplib.h>
#include <librdkafka/rdkafka.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
void SleepMicros(int64_t us) {
  if (us > 0) std::this_thread::sleep_for(std::chrono::microseconds(us));
}

struct Options {
  std::string mode;
  int port = 0;
  std::string stream = "lat";
  int clients = 20;
  double rate = 100000;
  int seconds = 60;
  int max_seconds = 10;
  int64_t max_events = 1'000'000;
  std::string brokers, topic;
  int partitions = 16;
  int pid = 0;         // sluice run: its RSS and CPU
  int broker_pid = 0;  // the mock Kafka cluster: its CPU
  int tick_ms = 10;    // an HTTP client sends at most once per tick (what fell due meanwhile)
  int poll_ms = 10;    // pause between two polls
  // The Kafka producer's linger: librdkafka's mock broker finds a fetch's offset by walking the partition's
  // message sets from the oldest (up to 100,000 kept) and returns one set per partition per fetch, so its one
  // thread saturates on many small sets; real brokers index them.
  std::string linger_ms = "20";
};

// ISO-8601 UTC with microseconds.
std::string Iso(int64_t us) {
  time_t s = static_cast<time_t>(us / 1'000'000);
  struct tm tm;
  gmtime_r(&s, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(us % 1'000'000));
  return buf;
}

// One event, ~210 bytes: close to the tracking events of bench/ingest.
void AppendEvent(std::string& out, int64_t due_us, int src, int64_t seq) {
  static const char* kEvents[] = {"impression", "start", "firstQuartile", "midpoint", "complete", "click"};
  const int64_t ad = (seq * 7919 + src) % 100000;
  out += "{\"ts\":\"" + Iso(due_us) + "\",\"src\":" + std::to_string(src) + ",\"seq\":" + std::to_string(seq) +
         ",\"ad_id\":" + std::to_string(ad) + ",\"event\":\"" + kEvents[seq % 6] +
         "\",\"page\":\"https://news.example.com/world/2026/11/article-" + std::to_string(ad) +
         ".html\",\"ua\":\"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Firefox/133.0\"}\n";
}

// Latencies in 0.1 ms buckets up to 120 s (the last bucket holds everything beyond).
class Histogram {
 public:
  Histogram() : buckets_(1'200'001) {}
  void Add(int64_t us) {
    size_t b = static_cast<size_t>(std::clamp<int64_t>(us / 100, 0, static_cast<int64_t>(buckets_.size()) - 1));
    ++buckets_[b];
    ++count_;
    max_us_ = std::max(max_us_, us);
  }
  int64_t count() const { return count_; }
  int64_t max_us() const { return max_us_; }
  double QuantileMs(double q) const {
    if (count_ == 0) return 0;
    int64_t want = static_cast<int64_t>(q * static_cast<double>(count_ - 1)) + 1, seen = 0;
    for (size_t b = 0; b < buckets_.size(); ++b)
      if ((seen += buckets_[b]) >= want) return (static_cast<double>(b) + 0.5) / 10.0;
    return max_us_ / 1000.0;
  }

 private:
  std::vector<int64_t> buckets_;
  int64_t count_ = 0;
  int64_t max_us_ = 0;
};

// Events sent by one producer and not yet seen by the poller, in sequence order.
struct Producer {
  std::mutex mu;
  std::deque<std::pair<int64_t, int64_t>> pending;  // (seq, due micros)
};

class Tracker {
 public:
  Tracker(const Options& o, int producers) : o_(o), producers_(producers) {
    for (auto& p : producers_) p = std::make_unique<Producer>();
  }
  void Sent(int producer, int64_t seq, int64_t due_us) {
    std::lock_guard<std::mutex> lock(producers_[producer]->mu);
    producers_[producer]->pending.emplace_back(seq, due_us);
    ++sent_;
  }
  // Polls until `stop` and then until everything sent is seen (or 60 s pass).
  void Poll(const std::atomic<bool>& stop, int64_t since_us) {
    httplib::Client client("127.0.0.1", o_.port);
    client.set_read_timeout(30, 0);
    int64_t drain_deadline = 0, polls = 0, poll_start = NowMicros();
    while (true) {
      if (stop && drain_deadline == 0) drain_deadline = NowMicros() + 60'000'000;
      if (drain_deadline && (unseen() == 0 || NowMicros() > drain_deadline)) break;
      // Only rows from the oldest event not yet seen on are read (zone maps on ts prune the rest): every unseen
      // event has ts >= its producer's oldest unseen due time. A fixed window (the last minute, 6 M rows at
      // 100,000/s) made each poll scan and aggregate millions of rows, ~0.9 of the 2 cores, and the reads
      // themselves then delayed what they measured.
      const int64_t window = std::max(since_us, Frontier());
      const std::string sql = "SELECT src, max(seq) FROM raw_" + o_.stream + " WHERE ts >= TIMESTAMP '" +
                              Iso(window).substr(0, 26) + "' AND src < 1000 GROUP BY src";
      auto res = client.Get("/api/query", httplib::Params{{"sql", sql}, {"format", "csv"}}, httplib::Headers{});
      const int64_t now = NowMicros();
      ++polls;
      if (res && res->status == 200) {
        std::istringstream in(res->body);
        std::string line;
        std::getline(in, line);  // header
        while (std::getline(in, line)) {
          size_t comma = line.find(',');
          if (comma == std::string::npos) continue;
          int src = std::atoi(line.c_str());
          int64_t max_seq = std::atoll(line.c_str() + comma + 1);
          if (src < 0 || src >= static_cast<int>(producers_.size())) continue;
          std::lock_guard<std::mutex> lock(producers_[src]->mu);
          auto& q = producers_[src]->pending;
          std::lock_guard<std::mutex> hlock(hist_mu_);
          while (!q.empty() && q.front().first <= max_seq) {
            hist_.Add(now - q.front().second);
            q.pop_front();
          }
        }
      } else if (++poll_errors_ <= 3) {
        std::fprintf(
            stderr, "poll failed: %s\n",
            res ? (std::to_string(res->status) + " " + res->body).c_str() : httplib::to_string(res.error()).c_str());
      }
      SleepMicros(o_.poll_ms * 1000);
    }
    poll_interval_ms_ = polls ? (NowMicros() - poll_start) / 1000.0 / polls : 0;
  }
  // The due time of the oldest event sent and not yet seen (now when all are seen), less 1 s of margin.
  int64_t Frontier() {
    int64_t oldest = NowMicros();
    for (auto& p : producers_) {
      std::lock_guard<std::mutex> lock(p->mu);
      if (!p->pending.empty()) oldest = std::min(oldest, p->pending.front().second);
    }
    return oldest - 1'000'000;
  }
  int64_t sent() const { return sent_; }
  int64_t seen() {
    std::lock_guard<std::mutex> lock(hist_mu_);
    return hist_.count();
  }
  int64_t unseen() { return sent_ - seen(); }
  double Quantile(double q) {
    std::lock_guard<std::mutex> lock(hist_mu_);
    return hist_.QuantileMs(q);
  }
  double MaxMs() {
    std::lock_guard<std::mutex> lock(hist_mu_);
    return hist_.max_us() / 1000.0;
  }
  double poll_interval_ms() const { return poll_interval_ms_; }

 private:
  const Options& o_;
  std::vector<std::unique_ptr<Producer>> producers_;
  std::atomic<int64_t> sent_{0};
  std::mutex hist_mu_;
  Histogram hist_;
  int64_t poll_errors_ = 0;
  double poll_interval_ms_ = 0;
};

// Resident set of `pid` in MB (0 when unknown).
double RssMb(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      double kb;
      in >> kb;
      return kb / 1024.0;
    }
    std::getline(in, key);
  }
  return 0;
}

std::string Scalar(int port, const std::string& sql) {
  httplib::Client client("127.0.0.1", port);
  auto res = client.Get("/api/query", httplib::Params{{"sql", sql}, {"format", "csv"}}, httplib::Headers{});
  if (!res || res->status != 200) return "";
  std::string body = res->body;
  size_t nl = body.find('\n');
  if (nl == std::string::npos) return "";
  std::string v = body.substr(nl + 1);
  while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
  return v;
}

// CPU seconds so far: the machine's busy time (all processes) and that of one process (0 when unknown).
double MachineBusySeconds() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  double user, nice, system, idle, iowait, irq, softirq, steal;
  in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  return (user + nice + system + irq + softirq + steal) / static_cast<double>(sysconf(_SC_CLK_TCK));
}
double ProcessCpuSeconds(int pid) {
  if (pid <= 0) return 0;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream fields(stat.substr(paren + 2));
  std::string f;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i)
    if (i == 14 || i == 15) ticks += std::atof(f.c_str());  // utime, stime
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}
double SelfCpuSeconds() {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Who kept the cores busy during the timed phase, in cores (CPU seconds per second).
class CoreUse {
 public:
  explicit CoreUse(const Options& o)
      : o_(o),
        t0_(NowMicros()),
        all0_(MachineBusySeconds()),
        sluice0_(ProcessCpuSeconds(o.pid)),
        broker0_(ProcessCpuSeconds(o.broker_pid)),
        self0_(SelfCpuSeconds()) {}
  void Print() const {
    const double secs = (NowMicros() - t0_) / 1e6;
    std::printf("cores_all=%.2f\ncores_sluice=%.2f\ncores_brokers=%.2f\ncores_load=%.2f\n",
                (MachineBusySeconds() - all0_) / secs, (ProcessCpuSeconds(o_.pid) - sluice0_) / secs,
                (ProcessCpuSeconds(o_.broker_pid) - broker0_) / secs, (SelfCpuSeconds() - self0_) / secs);
  }

 private:
  const Options& o_;
  int64_t t0_;
  double all0_, sluice0_, broker0_, self0_;
};

struct Counters {
  std::atomic<int64_t> bodies{0}, refused{0}, errors{0}, events_ok{0};
};

// POSTs `body`, retrying after a 503 (waiting its Retry-After, as a well-behaved client does) or an error;
// false when `give_up` came first.
bool PostUntilAccepted(httplib::Client& client, const Options& o, const std::string& body, Counters& c,
                       const std::atomic<bool>& give_up) {
  while (!give_up) {
    auto res = client.Post("/ingest/" + o.stream, body, "application/x-ndjson");
    if (res && res->status == 200) {
      ++c.bodies;
      return true;
    }
    if (res && res->status == 503) {
      ++c.refused;
      int after = res->has_header("Retry-After") ? std::atoi(res->get_header_value("Retry-After").c_str()) : 1;
      SleepMicros(static_cast<int64_t>(std::max(after, 1)) * 1'000'000);
      continue;
    }
    if (++c.errors <= 3)
      std::fprintf(
          stderr, "POST failed: %s\n",
          res ? (std::to_string(res->status) + " " + res->body).c_str() : httplib::to_string(res.error()).c_str());
    SleepMicros(100'000);
  }
  return false;
}

// HTTP, maximum: clients post 1,000-event bodies back to back for max_seconds; events/s accepted.
double HttpMaximum(const Options& o) {
  Counters c;
  std::atomic<bool> stop{false};
  const int64_t start = NowMicros();
  std::vector<std::thread> threads;
  for (int i = 0; i < o.clients; ++i)
    threads.emplace_back([&, i] {
      httplib::Client client("127.0.0.1", o.port);
      client.set_keep_alive(true);
      client.set_read_timeout(60, 0);
      int64_t seq = 0;
      while (!stop) {
        std::string body;
        const int64_t now = NowMicros();
        for (int k = 0; k < 1000; ++k) AppendEvent(body, now, 1000 + i, seq++);
        if (PostUntilAccepted(client, o, body, c, stop)) c.events_ok += 1000;
      }
    });
  SleepMicros(static_cast<int64_t>(o.max_seconds) * 1'000'000);
  stop = true;
  for (auto& t : threads) t.join();
  const double secs = (NowMicros() - start) / 1e6;
  std::printf("max_refused=%lld\n", static_cast<long long>(c.refused.load()));
  return c.events_ok / secs;
}

void Progress(const char* phase, int64_t start, Tracker& t, const Counters* c) {
  std::fprintf(stderr, "  %s %4.0fs: sent %lld, queryable %lld, p99 so far %.1f ms%s\n", phase,
               (NowMicros() - start) / 1e6, static_cast<long long>(t.sent()), static_cast<long long>(t.seen()),
               t.Quantile(0.99), c ? (", bodies refused " + std::to_string(c->refused.load())).c_str() : "");
}

// Runs `tick` every 5 s (progress) and records RSS every 60 s until `end_us`.
void Watch(const Options& o, int64_t start, int64_t end_us, const std::function<void()>& tick) {
  int64_t next_progress = start + 5'000'000, next_rss = start + 60'000'000;
  while (NowMicros() < end_us) {
    SleepMicros(std::min<int64_t>(200'000, end_us - NowMicros()));
    if (NowMicros() >= next_progress) {
      tick();
      next_progress += 5'000'000;
    }
    if (o.pid && NowMicros() >= next_rss) {
      std::printf("rss_mb_at_%llds=%.0f\n", static_cast<long long>((next_rss - start) / 1'000'000), RssMb(o.pid));
      std::fflush(stdout);
      next_rss += 60'000'000;
    }
  }
}

void Report(const Options& o, Tracker& t, double achieved) {
  std::printf("sent=%lld\nqueryable=%lld\nnever_seen=%lld\nachieved_rate=%.0f\n", static_cast<long long>(t.sent()),
              static_cast<long long>(t.seen()), static_cast<long long>(t.unseen()), achieved);
  std::printf("p50_ms=%.1f\np99_ms=%.1f\nmax_ms=%.1f\npoll_interval_ms=%.1f\n", t.Quantile(0.5), t.Quantile(0.99),
              t.MaxMs(), t.poll_interval_ms());
  if (o.pid) std::printf("rss_mb_end=%.0f\n", RssMb(o.pid));
  // Batches (one transaction each) over the whole run, maximum phase included: bodies per batch for HTTP.
  std::printf("batches=%s\n", Scalar(o.port, "SELECT count(*) FROM _sluice_batches").c_str());
}

int RunHttp(const Options& o) {
  std::fprintf(stderr, "HTTP maximum: %d clients posting 1,000-event bodies back to back for %d s...\n", o.clients,
               o.max_seconds);
  const double maximum = HttpMaximum(o);
  std::printf("max_events_per_s=%.0f\n", maximum);
  std::fflush(stdout);
  std::fprintf(stderr, "HTTP sustained: %d clients, %.0f events/s for %d s...\n", o.clients, o.rate, o.seconds);

  Tracker tracker(o, o.clients);
  Counters c;
  CoreUse cores(o);
  std::atomic<bool> stop{false}, give_up{false};
  const int64_t start = NowMicros(), end = start + static_cast<int64_t>(o.seconds) * 1'000'000;
  std::thread poller([&] { tracker.Poll(stop, start - 1'000'000); });
  const double per_client = o.rate / o.clients;
  std::vector<std::thread> threads;
  for (int i = 0; i < o.clients; ++i)
    threads.emplace_back([&, i] {
      httplib::Client client("127.0.0.1", o.port);
      client.set_keep_alive(true);
      client.set_read_timeout(60, 0);
      // Clients start spread over one tick, as independent senders would.
      const int64_t t0 = start + i * o.tick_ms * 1000 / o.clients;
      int64_t sent = 0, last_post = 0;
      const int64_t total = static_cast<int64_t>(per_client * o.seconds);
      while (sent < total && !give_up) {
        const int64_t now = NowMicros();
        const int64_t due = std::min<int64_t>(total, static_cast<int64_t>((now - t0) * per_client / 1e6));
        if (due <= sent || now - last_post < o.tick_ms * 1000) {
          SleepMicros(std::max<int64_t>(500, last_post + o.tick_ms * 1000 - now));
          continue;
        }
        const int64_t n = std::min<int64_t>(due - sent, 20'000);
        std::string body;
        body.reserve(static_cast<size_t>(n) * 230);
        for (int64_t k = sent; k < sent + n; ++k) {
          const int64_t due_us = t0 + static_cast<int64_t>(k * 1e6 / per_client);
          tracker.Sent(i, k, due_us);
          AppendEvent(body, due_us, i, k);
        }
        last_post = now;
        PostUntilAccepted(client, o, body, c, give_up);
        sent += n;
      }
    });
  Watch(o, start, end, [&] { Progress("http", start, tracker, &c); });
  // Late clients get 30 s more to send what fell due.
  for (int i = 0; i < 300 && tracker.sent() < static_cast<int64_t>(per_client * o.seconds) * o.clients; ++i)
    SleepMicros(100'000);
  give_up = true;
  for (auto& t : threads) t.join();
  const double achieved = tracker.sent() / ((NowMicros() - start) / 1e6);
  stop = true;
  poller.join();
  cores.Print();
  std::printf("bodies=%lld\nrefused=%lld\nerrors=%lld\n", static_cast<long long>(c.bodies.load()),
              static_cast<long long>(c.refused.load()), static_cast<long long>(c.errors.load()));
  Report(o, tracker, achieved);
  return 0;
}

rd_kafka_t* Producer(const Options& o) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  auto set = [&](const char* k, const char* v) {
    if (rd_kafka_conf_set(conf, k, v, err, sizeof err) != RD_KAFKA_CONF_OK) std::fprintf(stderr, "%s\n", err);
  };
  set("bootstrap.servers", o.brokers.c_str());
  set("linger.ms", o.linger_ms.c_str());
  set("compression.codec", "lz4");
  set("queue.buffering.max.messages", "2000000");
  set("queue.buffering.max.kbytes", "1048576");
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) std::fprintf(stderr, "producer: %s\n", err);
  return rk;
}

void Produce(rd_kafka_t* rk, const Options& o, int partition, const std::string& value) {
  while (true) {
    rd_kafka_resp_err_t e =
        rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(o.topic.c_str()), RD_KAFKA_V_PARTITION(partition),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_END);
    if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      if (e) std::fprintf(stderr, "produce: %s\n", rd_kafka_err2str(e));
      return;
    }
    rd_kafka_poll(rk, 10);
  }
}

int RunKafka(const Options& o) {
  rd_kafka_t* rk = Producer(o);
  if (!rk) return 1;
  // Maximum: max_events produced at once, timed from the first until all are queryable.
  std::fprintf(stderr, "Kafka maximum: %lld events produced at once, timed until all are queryable...\n",
               static_cast<long long>(o.max_events));
  const int64_t start_max = NowMicros();
  std::string value;
  for (int64_t k = 0; k < o.max_events; ++k) {
    value.clear();
    AppendEvent(value, NowMicros(), 1000 + static_cast<int>(k % o.partitions), k / o.partitions);
    value.pop_back();  // one message, one record: no newline
    Produce(rk, o, static_cast<int>(k % o.partitions), value);
    if (k % 1000 == 0) rd_kafka_poll(rk, 0);
  }
  const std::string count_sql = "SELECT count(*) FROM raw_" + o.stream + " WHERE src >= 1000";
  int64_t loaded = 0;
  for (int i = 0; i < 3000 && loaded < o.max_events; ++i) {
    rd_kafka_poll(rk, 0);
    SleepMicros(100'000);
    loaded = std::atoll(Scalar(o.port, count_sql).c_str());
    if (i % 50 == 49)
      std::fprintf(stderr, "  max: %lld of %lld queryable\n", static_cast<long long>(loaded),
                   static_cast<long long>(o.max_events));
  }
  const double maximum = loaded / ((NowMicros() - start_max) / 1e6);
  std::printf("max_events_per_s=%.0f\nmax_loaded=%lld\n", maximum, static_cast<long long>(loaded));
  std::fflush(stdout);

  std::fprintf(stderr, "Kafka sustained: %.0f events/s over %d partitions for %d s...\n", o.rate, o.partitions,
               o.seconds);
  Tracker tracker(o, o.partitions);
  CoreUse cores(o);
  std::atomic<bool> stop{false};
  const int64_t start = NowMicros(), end = start + static_cast<int64_t>(o.seconds) * 1'000'000;
  std::thread poller([&] { tracker.Poll(stop, start - 1'000'000); });
  std::thread producer([&] {
    std::vector<int64_t> seq(static_cast<size_t>(o.partitions), 0);
    const int64_t total = static_cast<int64_t>(o.rate * o.seconds);
    int64_t sent = 0;
    while (sent < total) {
      const int64_t now = NowMicros();
      const int64_t due = std::min<int64_t>(total, static_cast<int64_t>((now - start) * o.rate / 1e6));
      for (; sent < due; ++sent) {
        const int p = static_cast<int>(sent % o.partitions);
        const int64_t due_us = start + static_cast<int64_t>(sent * 1e6 / o.rate);
        value.clear();
        AppendEvent(value, due_us, p, seq[p]);
        value.pop_back();
        tracker.Sent(p, seq[p]++, due_us);
        Produce(rk, o, p, value);
      }
      rd_kafka_poll(rk, 0);
      SleepMicros(1000);
    }
    rd_kafka_flush(rk, 30'000);
  });
  Watch(o, start, end, [&] { Progress("kafka", start, tracker, nullptr); });
  producer.join();
  const double achieved = tracker.sent() / ((NowMicros() - start) / 1e6);
  stop = true;
  poller.join();
  cores.Print();
  Report(o, tracker, achieved);
  rd_kafka_destroy(rk);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s http|kafka --port P [options] (see the header of latency_load.cc)\n", argv[0]);
    return 2;
  }
  o.mode = argv[1];
  // Each option's flag and where its value goes.
  auto to_int = [](int* at) { return [at](const std::string& v) { *at = std::atoi(v.c_str()); }; };
  auto to_text = [](std::string* at) { return [at](const std::string& v) { *at = v; }; };
  const std::map<std::string, std::function<void(const std::string&)>> options = {
      {"--port", to_int(&o.port)},
      {"--stream", to_text(&o.stream)},
      {"--clients", to_int(&o.clients)},
      {"--rate", [&](const std::string& v) { o.rate = std::atof(v.c_str()); }},
      {"--seconds", to_int(&o.seconds)},
      {"--max-seconds", to_int(&o.max_seconds)},
      {"--max-events", [&](const std::string& v) { o.max_events = std::atoll(v.c_str()); }},
      {"--brokers", to_text(&o.brokers)},
      {"--topic", to_text(&o.topic)},
      {"--partitions", to_int(&o.partitions)},
      {"--pid", to_int(&o.pid)},
      {"--broker-pid", to_int(&o.broker_pid)},
      {"--tick-ms", to_int(&o.tick_ms)},
      {"--poll-ms", to_int(&o.poll_ms)},
      {"--linger-ms", to_text(&o.linger_ms)},
  };
  for (int i = 2; i + 1 < argc; i += 2) {
    auto option = options.find(argv[i]);
    if (option == options.end()) {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
    option->second(argv[i + 1]);
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  if (o.mode == "http") return RunHttp(o);
  if (o.mode == "kafka") return RunKafka(o);
  std::fprintf(stderr, "mode must be http or kafka\n");
  return 2;
}
