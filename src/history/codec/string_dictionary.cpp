#include "history/codec/string_dictionary.hpp"

namespace castor::history::codec {

std::optional<std::uint32_t> StringDictionary::intern(std::string_view s) {
  if (auto it = ids_.find(s); it != ids_.end()) return it->second;
  if (string_bytes_ + s.size() > kMaxDictionaryBytes) return std::nullopt;
  const auto id = static_cast<std::uint32_t>(by_id_.size());
  auto [it, inserted] = ids_.emplace(std::string(s), id);
  by_id_.push_back(&it->first);
  string_bytes_ += s.size();
  length_bytes_ += varint_size(s.size());
  return id;
}

std::size_t StringDictionary::encoded_size() const noexcept {
  return varint_size(by_id_.size()) + length_bytes_ + string_bytes_;
}

std::size_t StringDictionary::memory_bytes() const noexcept {
  // An estimate: node + string heap per entry, plus the id vector.
  return by_id_.size() * (sizeof(std::string) + 4 * sizeof(void*)) + string_bytes_ +
         by_id_.capacity() * sizeof(void*);
}

void StringDictionary::clear() {
  ids_.clear();
  by_id_.clear();
  string_bytes_ = 0;
  length_bytes_ = 0;
}

void StringDictionary::write(Bytes& out) const {
  put_varint(out, by_id_.size());
  for (const std::string* s : by_id_) {
    put_varint(out, s->size());
    out.insert(out.end(), s->begin(), s->end());
  }
}

bool read_dictionary(ByteReader& in, std::size_t max_entries, std::vector<std::string_view>& out) {
  std::uint64_t count;
  if (!in.read_varint(count) || count > max_entries || count > in.remaining()) return false;
  out.clear();
  out.reserve(static_cast<std::size_t>(count));
  for (std::uint64_t i = 0; i < count; ++i) {
    std::uint64_t len;
    std::span<const std::uint8_t> bytes;
    if (!in.read_varint(len) || len > kMaxStringBytes || !in.read_span(len, bytes)) return false;
    out.emplace_back(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }
  return true;
}

}  // namespace castor::history::codec
