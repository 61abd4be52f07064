// The distinct strings of one chunk, numbered in order of first appearance, so a string series
// stores each distinct value once and a small id per point. The head side interns; the sealed
// side parses into views of the chunk bytes. Parsing never reads outside the chunk and never
// trusts a declared length or count.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "history/codec/byte_io.hpp"

namespace castor::history::codec {

class StringDictionary {
 public:
  // The id of `s`, adding it when new; nullopt when adding it would pass kMaxDictionaryBytes.
  std::optional<std::uint32_t> intern(std::string_view s);

  std::size_t size() const noexcept { return by_id_.size(); }
  std::size_t encoded_size() const noexcept;
  std::size_t memory_bytes() const noexcept;
  void clear();

  // Layout: varint count, then per string in id order: varint length, bytes.
  void write(Bytes& out) const;

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  std::unordered_map<std::string, std::uint32_t, Hash, std::equal_to<>> ids_;
  std::vector<const std::string*> by_id_;  // keys of ids_: node addresses are stable
  std::size_t string_bytes_ = 0;
  std::size_t length_bytes_ = 0;
};

// Parses a dictionary of at most `max_entries` strings into views of the input bytes.
bool read_dictionary(ByteReader& in, std::size_t max_entries, std::vector<std::string_view>& out);

}  // namespace castor::history::codec
