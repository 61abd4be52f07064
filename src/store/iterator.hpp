// Iterator: walks the keys of one column family in byte order within the bounds the Store gave
// it, over a consistent view fixed when it was created. It never writes, and it pins memory and
// files while alive: keep it for one scan, and destroy it before the Store closes.
#pragma once

#include <memory>
#include <string_view>

#include "common/status.hpp"

namespace castor::store {

namespace impl {
struct Access;
}  // namespace impl

// Usage: for (auto it = store.scan_prefix(cf, "twin/"); it.valid(); it.next()) { ... }
//        then check it.status(): the loop also ends on an I/O error.
class Iterator {
 public:
  Iterator();
  ~Iterator();
  Iterator(Iterator&& other) noexcept;
  Iterator& operator=(Iterator&& other) noexcept;
  Iterator(const Iterator&) = delete;
  Iterator& operator=(const Iterator&) = delete;

  bool valid() const noexcept;
  void next();
  // Both views stay valid until the next call to next() or the Iterator's destruction.
  std::string_view key() const;
  std::string_view value() const;
  // ok when the scan ended at its bound; the reason otherwise.
  Status status() const;

 private:
  friend struct impl::Access;
  struct State;
  explicit Iterator(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace castor::store
