// Recovery of the history store: sealed-chunk marks from the series descriptors, heads from their
// checkpoints, then the WAL replayed on top (points a series already has are skipped, so replay
// is idempotent), then a fresh checkpoint and an empty WAL.
#include <unordered_map>

#include "history/chunk_decoder.hpp"
#include "history/series_layout.hpp"
#include "history/series_store.hpp"

namespace castor::history {
namespace {

// Commits `batch` once it is big, so that no single batch exceeds the store's bounds.
Status commit_if_big(store::Store& store, store::WriteBatch& batch, bool force = false) {
  if (batch.empty() || (!force && batch.size_bytes() < (std::size_t{8} << 20))) return Status::ok();
  auto r = store.commit_sync(std::move(batch));
  batch = store::WriteBatch();
  return r ? Status::ok() : r.status();
}

Status load_head(SeriesPartition& part, Series& s, std::string_view value,
                 store::WriteBatch& batch) {
  std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(value.data()),
                                      value.size());
  auto dec = ChunkDecoder::open(bytes);
  if (!dec)
    return Status(Code::internal, "history head of series " + std::to_string(s.id) +
                                      " is corrupt: " + dec.status().message());
  if (dec->type() != s.type)
    return Status(Code::internal,
                  "history head of series " + std::to_string(s.id) + " has another type");
  while (true) {
    auto n = dec->next_block();
    if (!n) return n.status();
    if (*n == 0) return Status::ok();
    auto ts = dec->timestamps();
    for (std::size_t i = 0; i < *n; ++i) {
      PointIn p;
      p.type = s.type;
      p.ts = ts[i];
      if (s.type == ValueType::float64)
        p.f = dec->doubles()[i];
      else
        p.i = dec->ints()[i];
      if (s.type == ValueType::string) p.s = dec->string(p.i);
      part.append_recovered(s, p, batch);
    }
  }
}

}  // namespace

Status recover_partitions(store::Store& store,
                          std::span<const std::unique_ptr<SeriesPartition>> partitions,
                          const std::function<std::size_t(std::string_view)>& partition_of) {
  auto cf = SeriesPartition::families(store);
  if (!cf) return cf.status();
  std::unordered_map<std::uint64_t, std::pair<Series*, SeriesPartition*>> by_id;
  for (auto it = store.scan_prefix(cf->series, "", nullptr, store::ScanMode::bulk); it.valid();
       it.next()) {
    std::uint64_t id = 0;
    if (!parse_id_key(it.key(), id))
      return Status(Code::internal, "a history series key is corrupt");
    auto s = decode_descriptor(id, it.value());
    if (!s) return s.status();
    SeriesPartition& part = *partitions[partition_of((*s)->twin) % partitions.size()];
    for (const auto& p : partitions) p->note_id(id);
    Series& ref = part.adopt(std::move(*s));
    by_id[id] = {&ref, &part};
  }
  store::WriteBatch batch;  // seals made while replaying
  for (auto it = store.scan_prefix(cf->heads, "", nullptr, store::ScanMode::bulk); it.valid();
       it.next()) {
    std::uint64_t id = 0;
    if (!parse_id_key(it.key(), id)) return Status(Code::internal, "a history head key is corrupt");
    auto found = by_id.find(id);
    if (found == by_id.end())
      continue;  // a head without a series: left from a failed write, ignored
    CASTOR_RETURN_IF_ERROR(
        load_head(*found->second.second, *found->second.first, it.value(), batch));
  }
  for (auto it = store.scan_prefix(cf->wal, "", nullptr, store::ScanMode::bulk); it.valid();
       it.next()) {
    CASTOR_RETURN_IF_ERROR(
        decode_wal_record(it.value(), [&](std::uint64_t id, const PointIn& p) -> Status {
          auto found = by_id.find(id);
          if (found == by_id.end())
            return Status(Code::internal, "the history WAL names series " + std::to_string(id) +
                                              ", which does not exist");
          Series& s = *found->second.first;
          if (p.type != s.type)
            return Status(Code::internal, "the history WAL has a point of another type");
          found->second.second->append_recovered(s, p, batch);
          return Status::ok();
        }));
  }
  for (const auto& part : partitions) {
    part->mark_all_dirty();
    while (!part->checkpoint(batch)) CASTOR_RETURN_IF_ERROR(commit_if_big(store, batch, true));
    CASTOR_RETURN_IF_ERROR(commit_if_big(store, batch));
  }
  CASTOR_RETURN_IF_ERROR(commit_if_big(store, batch, true));
  // Every point of the WAL is now in a head checkpoint or a sealed chunk: empty the log.
  batch.erase_range(cf->wal, std::string(), std::string(16, '\xff'));
  CASTOR_RETURN_IF_ERROR(commit_if_big(store, batch, true));
  // ... and give its bytes back now: after a crash the log can be large.
  return compact_wal(store, *cf);
}

}  // namespace castor::history
