// Bearer tokens: generation (32 random bytes, URL-safe), SHA-256 hashing, and the token file
// DATA/tokens.json (hashes only, mode 0600, atomic replace). A token's secret is shown once at
// creation and is never stored, logged or returned again.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "api/principal.hpp"
#include "common/status.hpp"

namespace castor::api {

struct TokenRecord {
  std::string id;    // first 12 hex digits of the hash: shown by `token list`, used by `revoke`
  std::string name;  // unique, chosen by the operator
  Role role = Role::viewer;
  std::vector<std::string> twins;  // device tokens: exact ids or prefixes ending in '*'
  std::string hash;                // "sha256:" + 64 hex digits
  std::string created;             // RFC 3339 UTC
};

std::string generate_token();                    // "castor_" + 43 base64url characters
std::string hash_token(std::string_view token);  // "sha256:" + hex
std::string token_id_for_hash(std::string_view hash);

// A connection's memory of the bearer token it authenticated last (src/api/http_server.cpp keeps
// one per connection; it is used on that connection's IO thread only). A keep-alive client sends
// the same token with every request: while the store has not changed since, the token is not
// hashed and looked up again.
struct TokenMemo {
  std::string token;
  std::shared_ptr<const Principal> principal;  // null: nothing remembered
  std::uint64_t generation = 0;                // the store's generation it was checked against
};

class TokenStore {
 public:
  explicit TokenStore(std::filesystem::path file);
  static std::filesystem::path path_in(const std::filesystem::path& data_dir);  // DATA/tokens.json

  // Reads the file; a missing file is an empty store.
  Status load();
  std::vector<TokenRecord> list() const;

  struct Created {
    std::string token;  // the secret: print once
    TokenRecord record;
  };
  // Read-modify-write of the file under an advisory lock, so concurrent CLIs do not lose tokens.
  Result<Created> create(std::string name, Role role, std::vector<std::string> twins);
  Result<TokenRecord> revoke(std::string_view id_or_name);

  // The principal for a presented token, or nullptr. Picks up tokens created or revoked by other
  // processes: the file is checked for changes at most once per `reload_interval`. With a `memo`
  // the answer comes from it when it holds this token and no token was created or revoked since;
  // a successful check is remembered there.
  std::shared_ptr<const Principal> authenticate(std::string_view token, TokenMemo* memo = nullptr);
  void set_reload_interval(std::chrono::milliseconds interval) { reload_interval_ = interval; }

 private:
  struct FileStamp {
    std::int64_t mtime_ns = -1, size = -1, inode = -1;
    bool operator==(const FileStamp&) const = default;
  };
  FileStamp stamp() const;
  Result<std::vector<TokenRecord>> read_records() const;
  Status save(const std::vector<TokenRecord>& records) const;
  void install(std::vector<TokenRecord> records, FileStamp stamp);
  void maybe_reload();

  std::filesystem::path file_;
  std::chrono::milliseconds reload_interval_{1000};
  mutable std::shared_mutex mu_;
  std::vector<TokenRecord> records_;
  std::unordered_map<std::string, std::shared_ptr<const Principal>> by_hash_;
  FileStamp stamp_;
  std::atomic<std::int64_t> next_check_ns_{0};
  std::uint64_t generation_ = 1;  // under mu_: bumped by every install()
};

}  // namespace castor::api
