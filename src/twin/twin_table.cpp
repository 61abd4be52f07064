#include "twin/twin_table.hpp"

#include <functional>
#include <string>

namespace castor::twin {
namespace {

// Longer probe runs past 70% full cost more than the memory saved (16 bytes per slot).
constexpr std::size_t kMaxLoadPercent = 70;
constexpr std::size_t kInitialSlots = 64;
constexpr std::size_t npos = SIZE_MAX;

}  // namespace

TwinTable::~TwinTable() {
  for (Slot& s : slots_) delete s.twin;
}

std::uint64_t TwinTable::hash_of(std::string_view id) noexcept {
  return std::hash<std::string_view>{}(id);
}

std::size_t TwinTable::locate(std::string_view id, std::uint64_t hash) const noexcept {
  if (slots_.empty()) return npos;
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.twin == nullptr) return npos;
    if (s.hash == hash && s.twin->id == id) return i;
  }
}

Twin* TwinTable::find(std::string_view id) const noexcept {
  const std::size_t i = locate(id, hash_of(id));
  return i == npos ? nullptr : slots_[i].twin;
}

void TwinTable::prefetch(std::string_view id) const noexcept {
  if (slots_.empty()) return;
  __builtin_prefetch(&slots_[hash_of(id) & (slots_.size() - 1)]);
}

void TwinTable::prefetch_twin(std::uint64_t hash) const noexcept {
  const Twin* t = slots_[hash & (slots_.size() - 1)].twin;
  if (t == nullptr) return;
  __builtin_prefetch(t);
  __builtin_prefetch(reinterpret_cast<const char*>(t) + 64);
}

Twin& TwinTable::put(std::unique_ptr<Twin> t) {
  const std::uint64_t hash = hash_of(t->id);
  if (const std::size_t i = locate(t->id, hash); i != npos) {
    delete slots_[i].twin;
    slots_[i].twin = t.release();
    return *slots_[i].twin;
  }
  return put_absent(std::move(t));
}

Twin& TwinTable::put_absent(std::unique_ptr<Twin> t) {
  const std::uint64_t hash = hash_of(t->id);
  if ((size_ + 1) * 100 > slots_.size() * kMaxLoadPercent) grow();
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = hash & mask;
  while (slots_[i].twin != nullptr) i = (i + 1) & mask;
  slots_[i] = Slot{hash, t.release()};
  ++size_;
  return *slots_[i].twin;
}

bool TwinTable::erase(std::string_view id) {
  std::size_t i = locate(id, hash_of(id));
  if (i == npos) return false;
  delete slots_[i].twin;  // `id` may dangle from here on
  slots_[i].twin = nullptr;
  --size_;
  // Backward shift: move later entries of the run into the hole when their home slot allows,
  // so that lookups never stop early at it.
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t j = (i + 1) & mask; slots_[j].twin != nullptr; j = (j + 1) & mask) {
    const std::size_t home = slots_[j].hash & mask;
    // Movable when the hole lies cyclically in [home, j).
    const bool movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
    if (!movable) continue;
    slots_[i] = slots_[j];
    slots_[j].twin = nullptr;
    i = j;
  }
  return true;
}

void TwinTable::grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.empty() ? kInitialSlots : old.size() * 2, Slot{});
  const std::size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.twin == nullptr) continue;
    std::size_t i = s.hash & mask;
    while (slots_[i].twin != nullptr) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

}  // namespace castor::twin
