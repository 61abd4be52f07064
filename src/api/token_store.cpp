#include "api/token_store.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <stdexcept>

#include "api/files.hpp"
#include "common/json.hpp"

namespace castor::api {
namespace {

constexpr std::string_view kTokenPrefix = "castor_";
constexpr std::size_t kTokenBytes = 32;

std::string to_hex(const unsigned char* data, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out += kHex[data[i] >> 4];
    out += kHex[data[i] & 15];
  }
  return out;
}

std::string base64url(const unsigned char* data, std::size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  int len =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<std::size_t>(len));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

Status check_name(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
  if (ok) return Status::ok();
  return invalid_argument("token name '" + std::string(name) +
                          "' is not valid; use 1 to 64 letters, digits, '.', '_' or '-'.");
}

Status check_twins(Role role, const std::vector<std::string>& twins) {
  if (role != Role::device) {
    if (!twins.empty()) {
      return invalid_argument(
          "--twins applies to device tokens only; drop it or use --role device.");
    }
    return Status::ok();
  }
  if (twins.empty()) {
    return invalid_argument(
        "a device token needs the twins it may write: add --twins ID... (an entry ending in '*' "
        "is a prefix, e.g. --twins 'line1-robot-*').");
  }
  for (const std::string& t : twins) {
    auto star = t.find('*');
    if (t.empty() || (star != std::string::npos && star + 1 != t.size())) {
      return invalid_argument(
          "twin entry '" + t +
          "' is not valid; give an exact twin id or a prefix ending in one '*'.");
    }
  }
  return Status::ok();
}

json::object to_json(const TokenRecord& r) {
  json::object o;
  o["id"] = r.id;
  o["name"] = r.name;
  o["role"] = role_name(r.role);
  json::array twins;
  for (const auto& t : r.twins) twins.emplace_back(t);
  o["twins"] = std::move(twins);
  o["hash"] = r.hash;
  o["created"] = r.created;
  return o;
}

Result<TokenRecord> from_json(const json::value& v) {
  auto bad = invalid_argument("an entry is malformed");
  const json::object* o = v.if_object();
  if (o == nullptr) return bad;
  TokenRecord r;
  auto text = [&](const char* key, std::string& out) {
    const json::value* f = o->if_contains(key);
    if (f == nullptr || !f->is_string()) return false;
    out = std::string(f->get_string());
    return true;
  };
  std::string role;
  if (!text("id", r.id) || !text("name", r.name) || !text("role", role) || !text("hash", r.hash) ||
      !text("created", r.created)) {
    return bad;
  }
  auto parsed = parse_role(role);
  if (!parsed) return invalid_argument("an entry has the unknown role '" + role + "'");
  r.role = *parsed;
  if (const json::value* t = o->if_contains("twins")) {
    if (!t->is_array()) return bad;
    for (const auto& item : t->get_array()) {
      if (!item.is_string()) return bad;
      r.twins.emplace_back(item.get_string());
    }
  }
  return r;
}

// An exclusive advisory lock on DATA/tokens.json.lock for read-modify-write.
class FileLock {
 public:
  explicit FileLock(const std::filesystem::path& path)
      : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    if (fd_ >= 0) ::flock(fd_, LOCK_EX);
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_;
};

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string generate_token() {
  unsigned char bytes[kTokenBytes];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    throw std::runtime_error("OpenSSL RAND_bytes failed: the system random source is unusable");
  }
  return std::string(kTokenPrefix) + base64url(bytes, sizeof bytes);
}

std::string hash_token(std::string_view token) {
  // Fetched once: with OpenSSL 3, EVP_sha256() makes every digest look its implementation up
  // again (EVP_MD_fetch, locks and property matching: ~1.5% of an authenticated GET). The
  // fetched method is immutable and lives as long as the process.
  static const EVP_MD* const sha256 = [] {
    const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched ? fetched : EVP_sha256();
  }();
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(token.data(), token.size(), md, &len, sha256, nullptr) != 1) {
    throw std::runtime_error("OpenSSL SHA-256 failed");
  }
  return "sha256:" + to_hex(md, len);
}

std::string token_id_for_hash(std::string_view hash) {
  std::string_view hex = hash.substr(hash.find(':') + 1);
  return std::string(hex.substr(0, 12));
}

TokenStore::TokenStore(std::filesystem::path file) : file_(std::move(file)) {}

std::filesystem::path TokenStore::path_in(const std::filesystem::path& data_dir) {
  return data_dir / "tokens.json";
}

TokenStore::FileStamp TokenStore::stamp() const {
  struct stat st {};
  if (::stat(file_.c_str(), &st) != 0) return {};
  return {static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
          static_cast<std::int64_t>(st.st_size), static_cast<std::int64_t>(st.st_ino)};
}

Result<std::vector<TokenRecord>> TokenStore::read_records() const {
  auto text = read_file(file_);
  if (!text) {
    if (text.status().code() == Code::not_found) return std::vector<TokenRecord>{};
    return text.status();
  }
  auto broken = [&](const std::string& why) {
    return invalid_argument("'" + file_.string() + "' is not a valid Castor token file (" + why +
                            "). Restore it from a backup, or move it away and create the "
                            "tokens again with 'castor token create'.");
  };
  auto doc = json::parse(*text);
  if (!doc) return broken(doc.status().message());
  const json::object* root = doc->if_object();
  const json::value* tokens = root ? root->if_contains("tokens") : nullptr;
  if (tokens == nullptr || !tokens->is_array()) return broken("no \"tokens\" array");
  std::vector<TokenRecord> records;
  for (const auto& item : tokens->get_array()) {
    auto r = from_json(item);
    if (!r) return broken(r.status().message());
    records.push_back(std::move(*r));
  }
  return records;
}

Status TokenStore::save(const std::vector<TokenRecord>& records) const {
  std::string out = "{\"version\":1,\"tokens\":[\n";
  for (std::size_t i = 0; i < records.size(); ++i) {
    out += "  " + json::serialize(to_json(records[i]));
    out += i + 1 < records.size() ? ",\n" : "\n";
  }
  out += "]}\n";
  return write_file_atomically(file_, out, 0600);
}

void TokenStore::install(std::vector<TokenRecord> records, FileStamp s) {
  std::unordered_map<std::string, std::shared_ptr<const Principal>> by_hash;
  for (const auto& r : records) {
    by_hash.emplace(r.hash,
                    std::make_shared<const Principal>(Principal{r.id, r.name, r.role, r.twins}));
  }
  std::unique_lock lock(mu_);
  records_ = std::move(records);
  by_hash_ = std::move(by_hash);
  stamp_ = s;
  ++generation_;
}

Status TokenStore::load() {
  FileStamp s = stamp();
  auto records = read_records();
  if (!records) return records.status();
  install(std::move(*records), s);
  next_check_ns_.store(steady_ns() + reload_interval_.count() * 1000000);
  return Status::ok();
}

std::vector<TokenRecord> TokenStore::list() const {
  std::shared_lock lock(mu_);
  return records_;
}

Result<TokenStore::Created> TokenStore::create(std::string name, Role role,
                                               std::vector<std::string> twins) {
  CASTOR_RETURN_IF_ERROR(check_twins(role, twins));
  FileLock lock(std::filesystem::path(file_) += ".lock");
  if (!lock.ok()) return internal_error("cannot lock '" + file_.string() + ".lock'");
  auto records = read_records();
  if (!records) return records.status();
  Created created;
  created.token = generate_token();
  TokenRecord& r = created.record;
  r.hash = hash_token(created.token);
  r.id = token_id_for_hash(r.hash);
  r.name = name.empty() ? std::string(role_name(role)) + "-" + r.id.substr(0, 6) : std::move(name);
  CASTOR_RETURN_IF_ERROR(check_name(r.name));
  for (const auto& existing : *records) {
    if (existing.name == r.name) {
      return already_exists("a token named '" + r.name +
                            "' exists; choose another --name or revoke it first.");
    }
  }
  r.role = role;
  r.twins = std::move(twins);
  r.created = rfc3339_utc(std::chrono::system_clock::now());
  records->push_back(r);
  CASTOR_RETURN_IF_ERROR(save(*records));
  install(std::move(*records), stamp());
  return created;
}

Result<TokenRecord> TokenStore::revoke(std::string_view id_or_name) {
  FileLock lock(std::filesystem::path(file_) += ".lock");
  if (!lock.ok()) return internal_error("cannot lock '" + file_.string() + ".lock'");
  auto records = read_records();
  if (!records) return records.status();
  auto it = std::find_if(records->begin(), records->end(), [&](const TokenRecord& r) {
    return r.id == id_or_name || r.name == id_or_name;
  });
  if (it == records->end()) {
    return not_found("no token has the id or name '" + std::string(id_or_name) +
                     "'; 'castor token list' shows them.");
  }
  TokenRecord removed = *it;
  records->erase(it);
  CASTOR_RETURN_IF_ERROR(save(*records));
  install(std::move(*records), stamp());
  return removed;
}

void TokenStore::maybe_reload() {
  std::int64_t now = steady_ns();
  std::int64_t due = next_check_ns_.load(std::memory_order_relaxed);
  if (now < due) return;
  if (!next_check_ns_.compare_exchange_strong(due, now + reload_interval_.count() * 1000000)) {
    return;  // another thread is checking
  }
  FileStamp s = stamp();
  {
    std::shared_lock lock(mu_);
    if (s == stamp_) return;
  }
  auto records = read_records();
  // A file being replaced or broken keeps the last good set; the next check tries again.
  if (records) install(std::move(*records), s);
}

std::shared_ptr<const Principal> TokenStore::authenticate(std::string_view token, TokenMemo* memo) {
  maybe_reload();
  if (!token.starts_with(kTokenPrefix) || token.size() > 256) return nullptr;
  if (memo != nullptr && memo->principal) {
    std::shared_lock lock(mu_);
    // Constant time: behind a proxy that pools connections, one connection carries many
    // clients' tokens.
    if (memo->generation == generation_ && memo->token.size() == token.size() &&
        CRYPTO_memcmp(memo->token.data(), token.data(), token.size()) == 0) {
      return memo->principal;
    }
  }
  std::string hash = hash_token(token);
  std::shared_lock lock(mu_);
  auto it = by_hash_.find(hash);
  if (it == by_hash_.end()) return nullptr;
  if (memo != nullptr) {
    memo->token.assign(token);
    memo->principal = it->second;
    memo->generation = generation_;
  }
  return it->second;
}

}  // namespace castor::api
