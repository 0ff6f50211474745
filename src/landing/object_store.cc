#include "landing/object_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace sluice {

namespace fs = std::filesystem;

namespace {

constexpr int kMaxVersions = 1000;  // a batch id re-landed this often with new content is a bug, not a retry

Status FsyncFolder(const fs::path& dir) {
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return Status::Io("cannot open " + dir.string() + ": " + std::strerror(errno));
  int rc = ::fsync(dfd);
  ::close(dfd);
  if (rc != 0) return Status::Io("cannot fsync " + dir.string() + ": " + std::strerror(errno));
  return Status::Ok();
}

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (!fs::exists(path, ec)) return Status::NotFound(path + ": no such object");
    return Status::Io("cannot read " + path);
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::Io("cannot read " + path);
  return ss.str();
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

// ---- Local folder ----

Status LocalObjectStore::PutIfAbsent(const std::string& key, std::string_view data) {
  const fs::path path = fs::path(root_) / key;
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return Status::Io("cannot create " + path.parent_path().string() + ": " + ec.message());
  // A name of its own per attempt, so concurrent writers of one key never share a temp file.
  static std::atomic<uint64_t> counter{0};
  const std::string tmp = path.string() + "." + std::to_string(::getpid()) + "-" + std::to_string(++counter) + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Io("cannot create " + tmp + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Status::Io("cannot write " + tmp + ": " + std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return Status::Io("cannot fsync " + tmp + ": " + std::strerror(err));
  }
  ::close(fd);
  // link() is the atomic "create unless it exists" that rename() is not.
  const int linked = ::link(tmp.c_str(), path.c_str());
  const int link_errno = errno;
  ::unlink(tmp.c_str());
  if (linked != 0 && link_errno != EEXIST)
    return Status::Io("cannot link " + path.string() + ": " + std::strerror(link_errno));
  if (linked != 0) {
    ASSIGN_OR_RETURN(std::string existing, ReadWholeFile(path.string()));
    if (existing == data) return Status::Ok();
    return Status::AlreadyExists(path.string() + " exists with other content (" + std::to_string(existing.size()) +
                                 " bytes, not " + std::to_string(data.size()) + " byte(s) being landed)");
  }
  // The new name is durable only once the folder's entry is on disk.
  return FsyncFolder(path.parent_path());
}

Result<std::string> LocalObjectStore::Get(const std::string& key) { return ReadWholeFile(Locator(key)); }

Result<std::vector<std::string>> LocalObjectStore::List(const std::string& prefix) {
  std::vector<std::string> out;
  // Walk only the deepest folder the prefix names whole.
  const size_t slash = prefix.rfind('/');
  const std::string folder = slash == std::string::npos ? "" : prefix.substr(0, slash);
  const fs::path start = folder.empty() ? fs::path(root_) : fs::path(root_) / folder;
  std::error_code ec;
  if (!fs::is_directory(start, ec)) return out;
  fs::recursive_directory_iterator it(start, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::string key = fs::relative(it->path(), root_, ec).generic_string();
    if (ec) break;
    if (key.compare(0, prefix.size(), prefix) != 0 || EndsWith(key, ".tmp")) continue;
    out.push_back(std::move(key));
  }
  if (ec) return Status::Io("cannot list " + start.string() + ": " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

// ---- S3-compatible bucket ----

S3ObjectStore::S3ObjectStore(S3ClientOptions options, std::string prefix, int list_page_size)
    : client_(std::move(options)), prefix_(std::move(prefix)), list_page_size_(list_page_size) {
  while (!prefix_.empty() && prefix_.front() == '/') prefix_.erase(0, 1);
  if (!prefix_.empty() && prefix_.back() != '/') prefix_ += '/';
}

std::string S3ObjectStore::Locator(const std::string& key) const {
  return "s3://" + client_.options().bucket + "/" + prefix_ + key;
}

Status S3ObjectStore::PutIfAbsent(const std::string& key, std::string_view data) {
  const std::string body(data);
  Status put = client_.PutObject(prefix_ + key, body);
  if (put.code() != StatusCode::kAlreadyExists) return put;
  ASSIGN_OR_RETURN(std::string existing, client_.GetObject(prefix_ + key));
  if (existing == data) return Status::Ok();
  return Status::AlreadyExists(Locator(key) + " exists with other content (" + std::to_string(existing.size()) +
                               " bytes, not " + std::to_string(data.size()) + " byte(s) being landed)");
}

Result<std::string> S3ObjectStore::Get(const std::string& key) { return client_.GetObject(prefix_ + key); }

Result<std::vector<std::string>> S3ObjectStore::List(const std::string& prefix) {
  ASSIGN_OR_RETURN(std::vector<S3ObjectInfo> objects, client_.ListAll(prefix_ + prefix, list_page_size_));
  std::vector<std::string> out;
  out.reserve(objects.size());
  for (auto& o : objects) out.push_back(o.key.substr(prefix_.size()));
  std::sort(out.begin(), out.end());  // S3 lists in UTF-8 byte order already; s3rver and others may not
  return out;
}

std::shared_ptr<ObjectStore> OpenObjectStore(const Config& config) {
  if (config.landing_kind != "s3") return std::make_shared<LocalObjectStore>(config.landing_path);
  S3ClientOptions o;
  o.endpoint = config.landing_endpoint;
  o.bucket = config.landing_bucket;
  o.region = config.landing_region;
  o.access_key_env = config.landing_access_key_env;
  o.secret_key_env = config.landing_secret_key_env;
  return std::make_shared<S3ObjectStore>(std::move(o), config.landing_prefix);
}

// ---- Versioned groups ----

int StemVersion(std::string_view stem, std::string* base) {
  const size_t tilde = stem.rfind('~');
  int version = 0;
  if (tilde != std::string_view::npos) {
    const char* first = stem.data() + tilde + 1;
    const char* last = stem.data() + stem.size();
    auto [end, err] = std::from_chars(first, last, version);
    if (err == std::errc() && end == last && version >= 2) {
      if (base) *base = std::string(stem.substr(0, tilde));
      return version;
    }
  }
  if (base) *base = std::string(stem);
  return 1;
}

Result<std::string> PutVersioned(ObjectStore& store, const std::string& stem,
                                 const std::vector<std::pair<std::string, std::string_view>>& suffix_and_data) {
  for (int version = 1; version <= kMaxVersions; ++version) {
    const std::string versioned = version == 1 ? stem : stem + "~" + std::to_string(version);
    bool conflict = false;
    for (const auto& [suffix, data] : suffix_and_data) {
      Status st = store.PutIfAbsent(versioned + suffix, data);
      if (st.code() == StatusCode::kAlreadyExists) {
        conflict = true;
        break;
      }
      RETURN_IF_ERROR(st);
    }
    if (!conflict) return versioned;
  }
  return Status::Internal(store.Locator(stem) + ": " + std::to_string(kMaxVersions) +
                          " versions landed already, each with other content");
}

}  // namespace sluice
