// ObjectStore: the boundary between landing and where its bytes live. Three calls, the ones an object store
// offers everywhere: put a key that is not there yet, get a key, list keys by prefix. Two implementations: a
// local folder (the default) and an S3-compatible bucket (AWS S3, Google Cloud Storage's XML API with HMAC keys,
// s3rver, MinIO) over S3Client. LandingStore writes batches through it and LandingReader reads them back, so
// the pipeline, backfill, ClickHouse's recovery and the collectors work the same on both.
//
// Keys are relative, '/'-separated ("tracking/dt=2024-05-01/file-a-0.ndjson.zst"); the store adds its own
// root (a folder, or a bucket and key prefix). Objects are never replaced: landed bytes are evidence of what was
// read, and a second writer must not silently change them.
// Thread-safety: every method may be called from several threads at once.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/config.h"
#include "core/status.h"
#include "landing/s3_client.h"

namespace sluice {

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // Stores `data` at `key` unless an object is there already; never replaces one. Ok when stored, and when the
  // object there holds exactly `data` (an earlier attempt of the same write landed). kAlreadyExists, with a
  // message naming the object (Locator), when it holds other bytes. kRetry for transient failures, kIo or
  // kInvalid otherwise.
  virtual Status PutIfAbsent(const std::string& key, std::string_view data) = 0;

  // The object's bytes; kNotFound when there is no object at `key`.
  virtual Result<std::string> Get(const std::string& key) = 0;

  // Every key that starts with `prefix` (plain string prefix, not only whole folders), in byte order.
  virtual Result<std::vector<std::string>> List(const std::string& prefix) = 0;

  // How the object at `key` is named outside sluice: its file path, or s3://bucket/key. Ledgers record it.
  virtual std::string Locator(const std::string& key) const = 0;
};

// A folder on the local file system. A put writes a temp file beside the target, fsyncs it, links it to the
// key's path (link() refuses an existing path, so two writers cannot replace each other) and fsyncs the folder.
// Temp files ("*.tmp") left by a crash are not listed.
class LocalObjectStore : public ObjectStore {
 public:
  explicit LocalObjectStore(std::string root) : root_(std::move(root)) {}

  Status PutIfAbsent(const std::string& key, std::string_view data) override;
  Result<std::string> Get(const std::string& key) override;
  Result<std::vector<std::string>> List(const std::string& prefix) override;
  std::string Locator(const std::string& key) const override { return root_ + "/" + key; }

  const std::string& root() const { return root_; }

 private:
  std::string root_;
};

// An S3-compatible bucket, keys under `prefix`. Puts go through S3Client::PutObject (If-None-Match: *, HEAD
// first where the server ignores it); a key that exists is fetched and compared. Listing follows continuation
// tokens, `list_page_size` keys per request.
class S3ObjectStore : public ObjectStore {
 public:
  // `prefix` may be empty; a trailing '/' is added when missing.
  S3ObjectStore(S3ClientOptions options, std::string prefix, int list_page_size = 1000);

  Status PutIfAbsent(const std::string& key, std::string_view data) override;
  Result<std::string> Get(const std::string& key) override;
  Result<std::vector<std::string>> List(const std::string& prefix) override;
  std::string Locator(const std::string& key) const override;

  S3Client& client() { return client_; }  // for tests: the last exchange
  const std::string& prefix() const { return prefix_; }

 private:
  S3Client client_;
  std::string prefix_;  // "" or "some/prefix/"
  int list_page_size_;
};

// The landing object store a config names: `landing.kind: s3` gives an S3ObjectStore (endpoint, bucket, prefix,
// region, credentials from the environment variables named by access_key_env/secret_key_env, read at each
// request, never logged); anything else the folder `landing_path`. Opening does no I/O: a missing credential
// variable is reported (by name) by the first request.
std::shared_ptr<ObjectStore> OpenObjectStore(const Config& config);

// Puts a group of objects that belong together (a batch's data, positions and manifest; the manifest last, as
// the marker that the group is whole) under `<stem><suffix>`. If one of those keys already holds other bytes
// (the same batch id was landed before with other content, and that landing was never loaded: see
// LandingStore), the group goes to the next free version, `<stem>~2<suffix>`, `<stem>~3<suffix>`... so no
// object is ever replaced and keys stay a function of what was landed before. Returns the stem used.
Result<std::string> PutVersioned(ObjectStore& store, const std::string& stem,
                                 const std::vector<std::pair<std::string, std::string_view>>& suffix_and_data);

// The version of a stem written by PutVersioned: "id" is 1, "id~3" is 3. `base` receives "id". '~' never
// appears in batch ids or run file names (SafeName keeps only [A-Za-z0-9._-]).
int StemVersion(std::string_view stem, std::string* base);

}  // namespace sluice
