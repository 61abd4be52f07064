#include "history/series_store.hpp"

#include <cstring>

#include "common/strings.hpp"
#include "history/chunk_format.hpp"
#include "history/codec/byte_io.hpp"
#include "history/series_layout.hpp"

namespace castor::history {

std::vector<std::string> history_column_families() {
  return {kSeriesFamily, kChunksFamily, kHeadsFamily, kWalFamily};
}

void series_key(std::string_view twin, std::string_view component, std::string_view name,
                std::string& out) {
  out.clear();
  out.append(twin);
  out.push_back('\0');
  out.append(component);
  out.push_back('\0');
  out.append(name);
}

Result<SeriesPartition::Families> SeriesPartition::families(const store::Store& store) {
  Families f;
  auto get = [&](const char* name, store::ColumnFamily& out) -> Status {
    auto cf = store.column_family(name);
    if (!cf) return cf.status();
    out = *cf;
    return Status::ok();
  };
  CASTOR_RETURN_IF_ERROR(get(kSeriesFamily, f.series));
  CASTOR_RETURN_IF_ERROR(get(kChunksFamily, f.chunks));
  CASTOR_RETURN_IF_ERROR(get(kHeadsFamily, f.heads));
  CASTOR_RETURN_IF_ERROR(get(kWalFamily, f.wal));
  return f;
}

SeriesPartition::SeriesPartition(std::uint32_t index, store::Store& store, Families cf,
                                 const HistoryOptions& options)
    : index_(index),
      store_(store),
      cf_(cf),
      options_(options),
      next_id_(std::uint64_t{index} << kIdPartitionShift) {}

Series* SeriesPartition::lookup(std::string_view twin, std::string_view component,
                                std::string_view name) {
  series_key(twin, component, name, scratch_);
  auto it = series_.find(std::string_view(scratch_));
  return it == series_.end() ? nullptr : it->second.get();
}

const Series* SeriesPartition::find(std::string_view twin, std::string_view component,
                                    std::string_view name) {
  return lookup(twin, component, name);
}

std::vector<const Series*> SeriesPartition::series_of(std::string_view twin) const {
  std::vector<const Series*> out;
  for (const auto& [key, s] : series_)
    if (s->twin == twin) out.push_back(s.get());
  return out;
}

std::int64_t SeriesPartition::retention_of(const Series& s) const {
  if (s.retention_ns >= 0) return s.retention_ns;
  if (auto it = options_.model_retention_ns.find(s.model); it != options_.model_retention_ns.end())
    return it->second;
  return options_.retention_ns;
}

std::size_t SeriesPartition::head_bytes() const noexcept {
  std::size_t n = 0;
  for (const auto& [key, s] : series_) n += s->head.memory_bytes();
  return n;
}

namespace {

constexpr std::size_t kPrefetchAhead = 8;

bool same_value(const Series& s, const PointIn& p) {
  switch (p.type) {
    case ValueType::float64: return std::memcmp(&s.pending_f, &p.f, sizeof(double)) == 0;
    case ValueType::string: return s.pending_s == p.s;
    default: return s.pending_i == p.i;
  }
}

Status refuse_older(const PointIn& p, std::int64_t prev) {
  return Status(Code::failed_precondition,
                "series " + std::string(p.twin) +
                    (p.component.empty() ? "" : "/" + std::string(p.component)) + "/" +
                    std::string(p.name) + " already has a point at " + std::to_string(prev) +
                    " ns, not before this one at " + std::to_string(p.ts) +
                    " ns; send each series' points in time order",
                "OutOfOrder");
}

}  // namespace

void SeriesPartition::check(std::span<const PointIn> points, std::vector<Verdict>& verdicts,
                            std::vector<Status>& why) {
  ++epoch_;
  fresh_.clear();
  plan_.assign(points.size(), nullptr);
  verdicts.assign(points.size(), Verdict::append);
  why.clear();
  auto refuse = [&](std::size_t i, Status st) {
    verdicts[i] = Verdict::refuse;
    if (why.empty()) why.resize(points.size());
    why[i] = std::move(st);
  };
  for (std::size_t i = 0; i < points.size(); ++i) {
    // Thousands of series per step, each touched once or a few times: ask for a hinted series'
    // names and scratch a few points ahead.
    if (i + kPrefetchAhead < points.size())
      if (const Series* ahead = points[i + kPrefetchAhead].hint) {
        __builtin_prefetch(&ahead->twin);
        __builtin_prefetch(&ahead->name);
        __builtin_prefetch(&ahead->epoch);
      }
    const PointIn& p = points[i];
    Series* s = nullptr;
    if (p.hint && same_text(p.hint->name, p.name) && same_text(p.hint->twin, p.twin) &&
        same_text(p.hint->component, p.component))
      s = p.hint;
    else
      s = lookup(p.twin, p.component, p.name);
    if (!s) {
      auto it = fresh_.find(std::string_view(scratch_));
      if (it == fresh_.end()) {
        auto fresh = std::make_unique<Series>(p.type);
        fresh->twin = p.twin;
        fresh->component = p.component;
        fresh->name = p.name;
        fresh->model = p.model;
        it = fresh_.emplace(scratch_, std::move(fresh)).first;
      }
      s = it->second.get();
    }
    if (s->epoch != epoch_) {
      s->epoch = epoch_;
      s->pending_ts = s->last_ts;
      s->pending_f = s->last_f;
      s->pending_i = s->last_i;
      s->pending_s = s->last_s;
    }
    if (p.type != s->type) {
      refuse(i, Status(Code::invalid_argument,
                       "series " + std::string(p.twin) + "/" + std::string(p.name) + " holds " +
                           std::string(value_type_name(s->type)) + " values, not " +
                           std::string(value_type_name(p.type)),
                       "ValidationFailed"));
      continue;
    }
    if (p.type == ValueType::string && p.s.size() > kMaxStringBytes) {
      refuse(i, Status(Code::invalid_argument, "a string value is longer than 64 KiB",
                       "ValidationFailed"));
      continue;
    }
    plan_[i] = s;
    if (p.ts > s->pending_ts || s->pending_ts == kNoTime) {
      s->pending_ts = p.ts;
      s->pending_f = p.f;
      s->pending_i = p.i;
      s->pending_s = p.s;
    } else if (p.ts == s->pending_ts && same_value(*s, p)) {
      verdicts[i] = Verdict::duplicate;
    } else {
      refuse(i, refuse_older(p, s->pending_ts));
    }
  }
}

Series& SeriesPartition::create(Series& fresh, store::WriteBatch& batch) {
  series_key(fresh.twin, fresh.component, fresh.name, scratch_);
  auto it = fresh_.find(std::string_view(scratch_));
  std::unique_ptr<Series> owned = std::move(it->second);
  fresh_.erase(it);
  owned->id = ++next_id_;
  Series& s = *owned;
  series_.emplace(scratch_, std::move(owned));
  put_descriptor(s, batch);
  return s;
}

void SeriesPartition::put_descriptor(const Series& s, store::WriteBatch& batch) {
  std::string value;
  encode_descriptor(s, value);
  batch.put(cf_.series, id_key(s.id), value);
}

void SeriesPartition::seal(Series& s, store::WriteBatch& batch) {
  auto bytes = s.head.seal();
  if (!bytes) return;  // empty head: nothing to seal
  auto header = read_header(*bytes);
  std::string_view view(reinterpret_cast<const char*>(bytes->data()), bytes->size());
  batch.put(cf_.chunks, chunk_key(s.id, header->min_ts), view);
  s.sealed_max = header->max_ts;
  s.sealed_f = s.last_f;
  s.sealed_i = s.last_i;
  s.sealed_s = s.last_s;
  put_descriptor(s, batch);
  batch.erase(cf_.heads, id_key(s.id));
  s.dirty = false;
  ++sealed_;
}

void SeriesPartition::push(Series& s, const PointIn& p, store::WriteBatch& batch) {
  if (!s.head.empty() &&
      (s.head.count() >= options_.chunk_points || p.ts - s.head.min_ts() >= options_.chunk_span_ns))
    seal(s, batch);
  for (int attempt = 0; attempt < 2; ++attempt) {
    Status st;
    switch (s.type) {
      case ValueType::float64: st = s.head.append(p.ts, p.f); break;
      case ValueType::int64: st = s.head.append(p.ts, p.i); break;
      case ValueType::boolean: st = s.head.append(p.ts, p.i != 0); break;
      case ValueType::string: st = s.head.append(p.ts, p.s); break;
    }
    if (st.is_ok()) break;
    seal(s, batch);  // full (points or dictionary): the point starts the next chunk
  }
  s.last_ts = p.ts;
  s.last_f = p.f;
  s.last_i = p.i;
  s.appended_at = appends_;
  if (s.type == ValueType::string) s.last_s.assign(p.s);
  if (!s.dirty) {
    s.dirty = true;
    dirty_.push_back(&s);
  }
  ++points_;
}

bool SeriesPartition::keep_plan(KeptPlan& out) {
  for (const Series* s : plan_)
    if (s && s->id == 0) return false;  // made by check(), gone at the next one
  out.series.swap(plan_);
  out.appends = appends_;
  return true;
}

bool SeriesPartition::reuse_plan(KeptPlan& kept) {
  // A series changes only by push(), which stamps it with the count: an older stamp means no
  // point came since the plan was made, so its last point (what check() compares with) is the
  // same. Series live as long as the partition, so the pointers still hold.
  for (const Series* s : kept.series)
    if (s && s->appended_at > kept.appends) return false;
  plan_.swap(kept.series);
  return true;
}

void SeriesPartition::append(std::span<const PointIn> points, std::span<const Verdict> verdicts,
                             store::WriteBatch& batch) {
  ++appends_;
  touched_.clear();
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (verdicts[i] != Verdict::append || !plan_[i]) continue;
    Series* s = plan_[i];
    if (s->id == 0) s = &create(*s, batch);
    if (s->wal_points.empty()) touched_.push_back(s);
    s->wal_points.push_back(static_cast<std::uint32_t>(i));
    push(*s, points[i], batch);
  }
  fresh_.clear();
  if (touched_.empty()) return;
  wal_buffer_.clear();
  wal_buffer_.push_back(kWalVersion);
  for (Series* s : touched_) {
    encode_wal_group(*s, points, wal_buffer_);
    s->wal_points.clear();
  }
  std::string_view view(reinterpret_cast<const char*>(wal_buffer_.data()), wal_buffer_.size());
  batch.put(cf_.wal, wal_key(index_, wal_seq_++), view);
  wal_bytes_ += wal_buffer_.size();
  if (wal_bytes_ >= options_.checkpoint_wal_bytes) checkpoint(batch);
}

bool SeriesPartition::checkpoint(store::WriteBatch& batch, std::size_t budget_bytes) {
  std::size_t written = 0;
  while (!dirty_.empty() && written < budget_bytes) {
    Series* s = dirty_.back();
    dirty_.pop_back();
    if (!s->dirty) continue;
    s->dirty = false;
    auto bytes = s->head.snapshot();
    if (!bytes) {
      batch.erase(cf_.heads, id_key(s->id));
      continue;
    }
    written += bytes->size();
    batch.put(cf_.heads, id_key(s->id),
              std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()));
  }
  // The WAL may only go once every head changed since it was written is in a checkpoint.
  if (!dirty_.empty()) return false;
  if (wal_seq_ > wal_first_)
    batch.erase_range(cf_.wal, wal_key(index_, wal_first_), wal_key(index_, wal_seq_));
  wal_first_ = wal_seq_;
  wal_bytes_ = 0;
  ++checkpoints_;
  return true;
}

std::size_t SeriesPartition::enforce_retention(std::int64_t now, store::WriteBatch& batch) {
  std::size_t dropped = 0;
  for (auto& [key, sp] : series_) {
    Series& s = *sp;
    std::int64_t r = retention_of(s);
    if (r <= 0) continue;
    std::int64_t cutoff = now - r;
    if (s.sealed_max != kNoTime && s.expired_scan < cutoff) {
      for (auto it =
               store_.scan_range(cf_.chunks, chunk_key(s.id, kNoTime), chunk_key(s.id, cutoff));
           it.valid(); it.next()) {
        auto v = it.value();
        auto header = read_header({reinterpret_cast<const std::uint8_t*>(v.data()), v.size()});
        if (header && header->max_ts < cutoff) {
          batch.erase(cf_.chunks, it.key());
          ++dropped;
        }
      }
      s.expired_scan = cutoff;
    }
    if (!s.head.empty() && s.last_ts < cutoff) {  // the whole head expired
      s.head.clear();
      if (!s.dirty) {
        s.dirty = true;
        dirty_.push_back(&s);
      }
    }
  }
  return dropped;
}

bool SeriesPartition::set_retention(std::string_view twin, std::string_view component,
                                    std::string_view name, std::int64_t retention_ns,
                                    store::WriteBatch& batch) {
  Series* s = lookup(twin, component, name);
  if (!s) return false;
  s->retention_ns = retention_ns;
  s->expired_scan = kNoTime;
  put_descriptor(*s, batch);
  return true;
}

SeriesSnapshot SeriesPartition::snapshot(const Series& s, std::int64_t now) const {
  SeriesSnapshot out;
  out.id = s.id;
  out.twin = s.twin;
  out.component = s.component;
  out.name = s.name;
  out.model = s.model;
  out.type = s.type;
  out.sealed_max = s.sealed_max;
  std::int64_t r = retention_of(s);
  out.retained_from = r > 0 ? now - r : kNoTime;
  out.last_ts = s.last_ts;
  out.last_f = s.last_f;
  out.last_i = s.last_i;
  out.last_s = s.last_s;
  if (auto head = s.head.snapshot()) out.head = std::move(*head);
  return out;
}

Series& SeriesPartition::adopt(std::unique_ptr<Series> s) {
  note_id(s->id);
  series_key(s->twin, s->component, s->name, scratch_);
  Series& ref = *s;
  series_[scratch_] = std::move(s);
  return ref;
}

void SeriesPartition::mark_all_dirty() {
  for (auto& [key, s] : series_)
    if (!s->dirty) {
      s->dirty = true;
      dirty_.push_back(s.get());
    }
}

void SeriesPartition::note_id(std::uint64_t id) {
  if ((id >> kIdPartitionShift) == index_ && id > next_id_) next_id_ = id;
}

void SeriesPartition::append_recovered(Series& s, const PointIn& p, store::WriteBatch& batch) {
  if (p.ts <= s.sealed_max || (s.last_ts != kNoTime && p.ts <= s.last_ts)) return;  // already in
  push(s, p, batch);
}

Status compact_wal(store::Store& store, const SeriesPartition::Families& cf) {
  return store.compact_range(cf.wal, std::string(), std::string(16, '\xff'));
}

Status compact_checkpointed(store::Store& store, const SeriesPartition::Families& cf) {
  CASTOR_RETURN_IF_ERROR(compact_wal(store, cf));
  return store.compact_range(cf.heads, std::string(), std::string(16, '\xff'));
}

Result<std::vector<Bytes>> load_chunks(const store::Store& store,
                                       const SeriesPartition::Families& cf,
                                       const SeriesSnapshot& snap, std::int64_t from,
                                       std::int64_t to) {
  std::vector<Bytes> out;
  if (snap.sealed_max != kNoTime && from <= snap.sealed_max) {
    auto it = store.scan_range(cf.chunks, chunk_key(snap.id, kNoTime), chunk_key(snap.id, to));
    for (; it.valid(); it.next()) {
      auto v = it.value();
      std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(v.data()),
                                          v.size());
      auto header = read_header(bytes);
      if (!header)
        return Status(Code::internal, "history chunk of series " + std::to_string(snap.id) +
                                          " is corrupt: " + header.status().message());
      if (header->max_ts > snap.sealed_max || !header->overlaps(from, to)) continue;
      out.emplace_back(bytes.begin(), bytes.end());
    }
    CASTOR_RETURN_IF_ERROR(it.status());
  }
  if (!snap.head.empty()) {
    auto header = read_header(snap.head);
    if (header && header->overlaps(from, to)) out.push_back(snap.head);
  }
  return out;
}

}  // namespace castor::history
