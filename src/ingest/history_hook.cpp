#include "ingest/history_hook.hpp"

#include <algorithm>

namespace castor::ingest {

using history::ValueType;
using model::SchemaKind;
using model::StdSchema;

history::ValueType history_type(const model::Schema& schema, const json::value& v) {
  if (schema.kind == SchemaKind::enumeration)
    return schema.enum_value_schema == StdSchema::integer ? ValueType::int64 : ValueType::string;
  if (schema.kind != SchemaKind::primitive) return ValueType::string;
  switch (schema.primitive) {
    case StdSchema::boolean: return ValueType::boolean;
    case StdSchema::integer:
    case StdSchema::long_:
    case StdSchema::short_:
    case StdSchema::byte:
    case StdSchema::unsignedByte:
    case StdSchema::unsignedShort:
    case StdSchema::unsignedInteger:
    case StdSchema::unsignedLong: return ValueType::int64;
    case StdSchema::double_:
    case StdSchema::float_:
    case StdSchema::decimal: return ValueType::float64;
    default: break;
  }
  return v.is_number() ? ValueType::float64 : ValueType::string;
}

Result<std::unique_ptr<HistoryHook>> HistoryHook::open(twin::Engine& engine,
                                                       history::HistoryOptions options) {
  std::unique_ptr<HistoryHook> h(new HistoryHook(std::move(options)));
  auto families = history::SeriesPartition::families(engine.store());
  if (!families) return families.status();
  h->families_ = *families;
  for (std::size_t i = 0; i < engine.shard_count(); ++i)
    h->partitions_.push_back(std::make_unique<history::SeriesPartition>(
        static_cast<std::uint32_t>(i), engine.store(), h->families_, h->options_));
  h->scratch_.resize(engine.shard_count());
  Status s = history::recover_partitions(
      engine.store(), h->partitions_,
      [&engine](std::string_view twin) { return engine.shard_of(twin); });
  if (!s.is_ok()) return s;
  return h;
}

void HistoryHook::check(twin::Shard& s, std::span<const twin::CheckedObservation> obs,
                        std::vector<Status>& refusals) {
  Scratch& sc = scratch_[s.index()];
  sc.points.resize(obs.size());
  sc.target_of.assign(obs.size(), nullptr);
  sc.texts.clear();
  for (std::size_t i = 0; i < obs.size(); ++i) {
    // The observations were written by another thread into a batch larger than the caches.
    if (i + 8 < obs.size()) __builtin_prefetch(reinterpret_cast<const char*>(obs[i + 8].obs) + 96);
    const twin::Observation& o = *obs[i].obs;
    history::PointIn& p = sc.points[i];
    p = history::PointIn{};
    if (i > 0 && obs[i - 1].run == obs[i].run) {  // the same twin and component as before
      const history::PointIn& prev = sc.points[i - 1];
      p.twin = prev.twin;
      p.component = prev.component;
      p.model = prev.model;
    } else {
      p.twin = o.twin;
      p.component = o.component;
      p.model = obs[i].twin->model->id;
    }
    p.name = obs[i].content->name;  // the content was found by this name: the same text
    p.ts = o.ts_ns;
    p.hint = hint(sc, i, obs);
    p.type = history_type(*obs[i].content->schema, o.value);
    const json::value& v = o.value;
    switch (p.type) {
      case ValueType::float64:  // mostly doubles: read those without the call
        if (v.is_double()) p.f = v.get_double();
        else json::as_double(v, p.f);
        break;
      case ValueType::int64: {
        long long n = 0;
        if (v.is_string()) break;  // not reached: an integer enum holds numbers
        json::as_int64(v, n);
        p.i = n;
        break;
      }
      case ValueType::boolean: p.i = v.is_bool() && v.get_bool() ? 1 : 0; break;
      case ValueType::string:
        if (v.is_string()) {
          p.s = json::sv(v.get_string());
        } else {
          sc.texts.push_back(json::serialize(v));
          p.s = sc.texts.back();
        }
        break;
    }
  }
  partitions_[s.index()]->check(sc.points, sc.verdicts, sc.why);
  if (sc.why.empty()) return;  // nothing refused
  for (std::size_t i = 0; i < obs.size(); ++i) {
    if (sc.verdicts[i] != history::Verdict::refuse) continue;
    // ADT accepts telemetry whatever its Telemetry-Source-Time: such a message is routed as an
    // event but, older than its series' last point, not appended to history.
    if (obs[i].obs->telemetry_only && sc.why[i].reason() == "OutOfOrder") {
      sc.verdicts[i] = history::Verdict::duplicate;
      continue;
    }
    if (refusals.empty()) refusals.resize(obs.size());
    refusals[i] = sc.why[i];
  }
}

namespace {

// A check's points (their values and string texts, which the points view), verdicts and plan.
struct KeptHistoryCheck final : twin::ObservationHook::KeptCheck {
  std::vector<history::PointIn> points;
  std::deque<std::string> texts;  // moved whole: the points' views into them stay valid
  std::vector<history::Verdict> verdicts;
  history::SeriesPartition::KeptPlan plan;
};

}  // namespace

std::unique_ptr<twin::ObservationHook::KeptCheck> HistoryHook::keep_check(twin::Shard& s) {
  Scratch& sc = scratch_[s.index()];
  if (!sc.why.empty()) return nullptr;  // it refused some: nothing to keep
  auto kept = std::make_unique<KeptHistoryCheck>();
  if (!partitions_[s.index()]->keep_plan(kept->plan)) return nullptr;
  kept->points.swap(sc.points);
  kept->texts.swap(sc.texts);
  kept->verdicts.swap(sc.verdicts);
  return kept;
}

bool HistoryHook::reuse_check(twin::Shard& s, std::span<const twin::CheckedObservation> obs,
                              KeptCheck& kept_check) {
  auto* kept = dynamic_cast<KeptHistoryCheck*>(&kept_check);
  if (!kept || kept->points.size() != obs.size() || kept->verdicts.size() != obs.size())
    return false;
  Scratch& sc = scratch_[s.index()];
  if (!partitions_[s.index()]->reuse_plan(kept->plan)) return false;
  sc.points.swap(kept->points);
  sc.texts.swap(kept->texts);
  sc.verdicts.swap(kept->verdicts);
  sc.why.clear();
  // Targets found then may have been dropped since: apply() finds them again where needed.
  sc.target_of.assign(obs.size(), nullptr);
  return true;
}

void HistoryHook::apply(twin::Shard& s, std::span<const twin::CheckedObservation> obs) {
  Scratch& sc = scratch_[s.index()];
  if (sc.points.size() != obs.size()) return;  // apply() without its check(): a bug; write nothing
  history::SeriesPartition& part = *partitions_[s.index()];
  part.append(sc.points, sc.verdicts, s.batch());
  // Remember where each point went; targets of deleted twins are dropped now and then.
  if (sc.targets.size() > 2 * part.series_count() + 1024) {
    sc.targets.clear();
    sc.cache.clear();
    sc.memo = nullptr;
    return;
  }
  for (std::size_t i = 0; i < obs.size(); ++i) {
    history::Series* series = part.appended_to(i, sc.verdicts);
    if (!series || series == sc.points[i].hint) continue;
    Target* t = sc.target_of[i] ? sc.target_of[i] : target(sc, obs[i], true);
    auto& v = t->series;
    auto at = std::find_if(v.begin(), v.end(),
                           [&](const auto& e) { return e.first == obs[i].content; });
    if (at != v.end()) at->second = series;
    else if (v.size() < kMaxSeriesPerTarget) v.emplace_back(obs[i].content, series);
  }
}

HistoryHook::Target* HistoryHook::target(Scratch& sc, const twin::CheckedObservation& c,
                                         bool create) {
  const std::string& component = c.obs->component;
  if (sc.memo && sc.memo_twin == c.twin && sc.memo->component == component) return sc.memo;
  if (sc.cache.empty()) sc.cache.resize(kCacheSlots);
  const TargetKey wanted{c.twin, component};
  // The key's top bits (aligned twin addresses leave the low bits of its hash alike).
  const std::uint64_t mixed = TargetKeyHash{}(wanted) * 0x9E3779B97F4A7C15ull;
  Scratch::Cached& slot = sc.cache[mixed >> (64 - kCacheBits)];
  if (slot.target && slot.twin == c.twin && slot.target->component == component) {
    sc.memo_twin = c.twin;
    sc.memo = slot.target;
    return sc.memo;
  }
  auto it = sc.targets.find(wanted);
  if (it == sc.targets.end()) {
    if (!create) return nullptr;
    auto fresh = std::make_unique<Target>();
    fresh->component = component;
    TargetKey key{c.twin, fresh->component};
    it = sc.targets.emplace(key, std::move(fresh)).first;
  }
  sc.memo_twin = c.twin;
  sc.memo = it->second.get();
  slot = Scratch::Cached{c.twin, sc.memo};
  return sc.memo;
}

history::Series* HistoryHook::hint(Scratch& sc, std::size_t i,
                                   std::span<const twin::CheckedObservation> obs) {
  const twin::CheckedObservation& c = obs[i];
  // The same run as the previous observation: the same (twin, component), so the same target.
  Target* t = i > 0 && obs[i - 1].run == c.run ? sc.target_of[i - 1] : target(sc, c, false);
  sc.target_of[i] = t;
  if (!t) return nullptr;
  for (const auto& [content, series] : t->series)
    if (content == c.content) return series;
  return nullptr;
}

}  // namespace castor::ingest
