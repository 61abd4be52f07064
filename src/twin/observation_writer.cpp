#include "twin/observation_writer.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "common/strings.hpp"
#include "model/instance_validator.hpp"
#include "twin/codec.hpp"
#include "twin/errors.hpp"
#include "twin/twin_json.hpp"

namespace castor::twin {

struct ObservationWriter::Call {
  std::vector<Observation> batch;
  IngestMode mode;
  std::function<void(IngestOutcome)> done;
  std::vector<std::vector<std::size_t>> by_shard;  // indices into batch
  // Two-phase batches: what the first phase found on each shard, and that shard's twin set then.
  // The second phase takes it as it is while no twin was added or removed meanwhile (the checks
  // depend only on the twins and their models), instead of checking every point again.
  std::vector<std::vector<CheckedObservation>> checked;
  std::vector<std::uint64_t> checked_epoch;
  std::vector<std::unique_ptr<ObservationHook::KeptCheck>> kept;  // the hook's, likewise
  bool two_phase = false;
  bool applying = false;
  std::atomic<std::size_t> pending{0};
  std::mutex mu;  // guards outcome and storage
  IngestOutcome outcome;
  Status storage;  // the first commit or overload failure
};

namespace {

// The contents found for the names of earlier runs of one interface, by position in the run:
// runs of the same interface (the joints of every robot, line after line) mostly name the same
// contents in the same order, so one compare of the name replaces a hash lookup. Only within one
// step (interfaces stay alive and unchanged meanwhile); a miss just looks the name up.
class ContentMemo {
 public:
  // The slots of `iface`, or kNone when too many interfaces were seen (then the caller looks
  // names up itself).
  std::uint32_t slots_of(const model::CompiledInterface* iface) {
    for (std::uint32_t i = 0; i < entries_.size(); ++i)
      if (entries_[i].iface == iface) return i;
    if (entries_.size() >= kMaxInterfaces) return kNone;
    entries_.push_back(Entry{iface, {}});
    return static_cast<std::uint32_t>(entries_.size() - 1);
  }
  const model::ContentDef* find(std::uint32_t slots, std::uint32_t position,
                                std::string_view name) {
    auto& v = entries_[slots].by_position;
    if (position < v.size() && v[position] && same_text(v[position]->name, name))
      return v[position];
    const model::ContentDef* c = entries_[slots].iface->find(name);
    if (position < kMaxPositions) {
      if (v.size() <= position) v.resize(position + 1, nullptr);
      v[position] = c;
    }
    return c;
  }
  static constexpr std::uint32_t kNone = static_cast<std::uint32_t>(-1);

 private:
  static constexpr std::size_t kMaxInterfaces = 32, kMaxPositions = 256;
  struct Entry {
    const model::CompiledInterface* iface;
    std::vector<const model::ContentDef*> by_position;
  };
  std::vector<Entry> entries_;
};

// The twin and interface of the previous observation: a batch holds runs of observations of one
// (twin, component) (a line-protocol line, an MQTT payload), found once per run, not per point.
struct LastTarget {
  std::string_view twin, component;
  const Twin* t = nullptr;
  const model::CompiledInterface* iface = nullptr;
  std::uint32_t run = 0;       // counts the targets found (CheckedObservation::run)
  std::uint32_t position = 0;  // of the observation in its run
  std::uint32_t slots = ContentMemo::kNone;
  ContentMemo memo;
};

Status check_observation(Shard& s, const Observation& o, CheckedObservation& out,
                         LastTarget& last) {
  if (o.twin.empty()) return errors::invalid("an observation needs a twin id");
  if (o.name.empty())
    return errors::invalid("an observation needs a name (a telemetry or property of the model)");
  const Twin* t = last.t;
  const model::CompiledInterface* iface = last.iface;
  if (!t || !same_text(o.twin, last.twin) || !same_text(o.component, last.component)) {
    last.t = nullptr;  // set again below once both are found
    t = s.find(o.twin);
    if (!t) return errors::twin_not_found(o.twin);
    iface = t->model.get();
    if (!o.component.empty()) {
      auto it = iface->components.find(o.component);
      if (it == iface->components.end()) return errors::component_not_found(o.twin, o.component);
      iface = it->second.get();
    }
    last.twin = o.twin;
    last.component = o.component;
    last.t = t;
    last.iface = iface;
    ++last.run;
    last.position = 0;
    last.slots = last.memo.slots_of(iface);
  } else {
    ++last.position;
  }
  const model::ContentDef* c = last.slots == ContentMemo::kNone
                                   ? iface->find(o.name)
                                   : last.memo.find(last.slots, last.position, o.name);
  if (!c || (c->kind != model::ContentKind::property && c->kind != model::ContentKind::telemetry))
    return errors::validation_failed("model " + iface->id +
                                     " has no telemetry or property named '" + o.name + "'");
  if (o.telemetry_only && c->kind != model::ContentKind::telemetry)
    return errors::validation_failed("'" + o.name + "' is not a Telemetry of model " + iface->id +
                                     "; telemetry messages may only carry the model's Telemetry");
  if (!model::validate_value(*c->schema, o.value).is_ok())  // again with the path, for the message
    return errors::validation_failed(
        model::validate_value(*c->schema, o.value, "/" + o.name).message());
  out.obs = &o;
  out.twin = t;
  out.content = c;
  out.run = last.run;
  return Status::ok();
}

constexpr std::size_t kPrefetchAhead = 8;
// Batches of at least this many observations wake their shards at once (see ingest()).
constexpr std::size_t kWakeAtOnce = 256;
inline void prefetch_observation(const Observation& o) {
  __builtin_prefetch(&o);
  __builtin_prefetch(reinterpret_cast<const char*>(&o) + 64);
}

std::uint16_t component_index(const Twin& t, std::string_view component) {
  if (component.empty()) return 0;
  const auto& names = component_names(*t.model);
  auto it = std::find(names.begin(), names.end(), component);
  return static_cast<std::uint16_t>(it - names.begin() + 1);
}

struct TwinPart {
  const Twin* twin;
  std::string_view component;
  bool operator==(const TwinPart&) const = default;
};
struct TwinPartHash {
  std::size_t operator()(const TwinPart& p) const noexcept {
    return std::hash<const void*>{}(p.twin) ^ std::hash<std::string_view>{}(p.component);
  }
};

// The newest observation of each content (Property or Telemetry) of one (twin, component) in a
// step, in the order the names first came, with how many older ones it replaced. Found by the
// content's address, so no name is hashed or compared per point.
struct LastValues {
  struct Entry {
    const model::ContentDef* content;
    const Observation* obs;
    std::uint32_t replaced = 0;
  };
  std::vector<Entry> entries;

  // Keeps `o` if it comes later in the batch (`newest`: only if it is also at least as new).
  void take(const model::ContentDef* c, const Observation& o, bool newest) {
    for (auto& e : entries) {
      if (e.content != c) continue;
      ++e.replaced;
      if (!newest || o.ts_ns >= e.obs->ts_ns) e.obs = &o;
      return;
    }
    entries.push_back(Entry{c, &o, 0});
  }
};

// Reported properties of one (twin, component): each property's newest value in the step becomes
// one ADT JSON Patch (value and $metadata sourceTime) if it is not older than the property's
// current source time.
struct PropertyPatch {
  Twin* twin = nullptr;
  std::string_view component;
  LastValues values;
};

json::array property_ops(const PropertyPatch& p) {
  json::array ops;
  const std::uint16_t component = component_index(*p.twin, p.component);
  for (const auto& e : p.values.entries) {
    const Observation& o = *e.obs;
    Nanos current = p.twin->source_time(component, static_cast<std::uint16_t>(e.content->slot));
    if (current > o.ts_ns) continue;
    ops.push_back(json::object{{"op", "add"}, {"path", "/" + o.name}, {"value", o.value}});
    ops.push_back(json::object{{"op", "add"},
                               {"path", "/$metadata/" + o.name + "/sourceTime"},
                               {"value", format_time(o.ts_ns)}});
  }
  return ops;
}

// Telemetry of one (twin, component): one event holding the last value of each name.
struct Telemetry {
  const Twin* twin;
  std::string_view component;
  Nanos source_time = 0;
  std::string_view message_id;
  LastValues values;
};

}  // namespace

void ObservationWriter::ingest(std::vector<Observation> batch, IngestMode mode,
                               std::function<void(IngestOutcome)> done) {
  auto call = std::make_shared<Call>();
  Nanos now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
  call->by_shard.resize(engine_.shard_count());
  std::string_view prev_twin;  // runs of one twin: hash its id once per run
  std::size_t shard = 0;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (batch[i].ts_ns == 0) batch[i].ts_ns = now;
    if (i == 0 || batch[i].twin != prev_twin) {
      prev_twin = batch[i].twin;
      shard = engine_.shard_of(prev_twin);
    }
    call->by_shard[shard].push_back(i);
  }
  call->batch = std::move(batch);
  call->mode = mode;
  call->done = std::move(done);
  std::size_t touched = std::count_if(call->by_shard.begin(), call->by_shard.end(),
                                      [](const auto& v) { return !v.empty(); });
  if (touched == 0) return finalize(*call);
  call->two_phase =
      (mode == IngestMode::reject_whole && touched > 1) || mode == IngestMode::validate_only;
  if (call->mode == IngestMode::reject_whole && call->two_phase) {
    call->checked.resize(call->by_shard.size());
    call->checked_epoch.resize(call->by_shard.size());
    call->kept.resize(call->by_shard.size());
  }
  const bool large = call->batch.size() >= kWakeAtOnce;
  run_phase(call, !call->two_phase);
  // An HTTP IO thread defers shard wakes to the end of its burst of handlers, which may parse
  // several more large batches first: the shards would sleep on this batch meanwhile. Its work
  // dwarfs a wake, so they are woken now (a no-op on threads that do not defer).
  if (large) engine_.wake_deferred();
}

void ObservationWriter::run_phase(const std::shared_ptr<Call>& call, bool apply) {
  call->applying = apply;
  std::size_t touched = 0;
  for (const auto& v : call->by_shard) touched += !v.empty();
  call->pending = touched;
  for (std::size_t i = 0; i < call->by_shard.size(); ++i) {
    if (call->by_shard[i].empty()) continue;
    // The writing phase of a batch checked on every shard goes ahead of newer batches' checks:
    // they would only delay its answer (and its series' order is kept: such phases are posted
    // in the order their checks finished, and run in that order).
    auto task = [this, call, i, apply](Shard& s) { step(s, call, i, apply); };
    bool posted = call->two_phase && apply ? engine_.run_on_shard_first(i, std::move(task))
                                           : engine_.run_on_shard(i, std::move(task));
    if (posted) continue;
    {
      std::lock_guard lock(call->mu);
      if (call->storage.is_ok())
        call->storage = Status(
            Code::unavailable,
            "Castor is overloaded (shard " + std::to_string(i) + " queue is full); retry shortly",
            "ServiceUnavailable");
    }
    finish_part(call);
  }
}

// The twin side of a step: reported properties become a patch per (twin, component); telemetry
// becomes one event per (twin, component) holding the last value of each name.
void ObservationWriter::apply_twins(Shard& s, std::span<const CheckedObservation> checked,
                                    const std::vector<Status>& refusals) {
  std::vector<PropertyPatch> patches;
  std::vector<Telemetry> telemetry;
  std::unordered_map<TwinPart, std::size_t, TwinPartHash> telemetry_index;
  constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  std::size_t last_event = kNone;
  std::uint32_t last_run = 0;  // the run of last_event's last observation
  for (std::size_t k = 0; k < checked.size(); ++k) {
    if (!refusals.empty() && !refusals[k].is_ok()) continue;
    const CheckedObservation& c = checked[k];
    const Observation& o = *c.obs;
    if (c.content->kind == model::ContentKind::property) {
      auto it = std::find_if(patches.begin(), patches.end(), [&](const PropertyPatch& p) {
        return p.twin == c.twin && p.component == o.component;
      });
      if (it == patches.end())
        it = patches.insert(patches.end(), PropertyPatch{s.find(o.twin), o.component, {}});
      it->values.take(c.content, o, true);
      continue;
    }
    // One event per (twin, component): found through a map, batches interleave many twins; a
    // run of one (twin, component) (a line-protocol line) reuses the last one found.
    if (last_event == kNone || last_run != c.run) {
      auto [slot, fresh] =
          telemetry_index.try_emplace(TwinPart{c.twin, o.component}, telemetry.size());
      if (fresh) telemetry.push_back(Telemetry{c.twin, o.component, 0, o.message_id, {}});
      last_event = slot->second;
      last_run = c.run;
    }
    Telemetry& t = telemetry[last_event];
    t.values.take(c.content, o, false);
    t.source_time = std::max(t.source_time, o.ts_ns);
  }
  Nanos now = s.now();
  for (auto& p : patches) {
    json::array ops = property_ops(p);
    if (ops.empty()) continue;
    json::value patch(std::move(ops));
    PatchOutcome outcome;
    if (!twin::patch_twin(*p.twin, p.component, patch, now, outcome).is_ok() || !outcome.changed)
      continue;
    p.twin->etag = s.new_etag();
    s.twin_changed(*p.twin);
    std::string bytes;
    encode_twin(*p.twin, bytes);
    s.batch().put(s.context().twins_cf, p.twin->id, bytes);
    auto e = std::make_shared<ChangeEvent>();
    e->type = EventType::twin_update;
    e->observed = true;
    e->time = now;
    e->twin_id = p.twin->id;
    e->model_id = p.twin->model->id;
    e->component = std::string(p.component);
    e->data = update_event_data(p.twin->model->id, patch);
    s.publish_after_commit(std::move(e));
  }
  for (auto& t : telemetry) {
    auto e = std::make_shared<ChangeEvent>();
    e->type = EventType::telemetry;
    e->time = now;
    e->twin_id = t.twin->id;
    e->model_id = t.twin->model->id;
    e->component = std::string(t.component);
    e->source_time = t.source_time;
    e->message_id = std::string(t.message_id);
    // {"name":value,...} written directly: names are the model's, values already checked.
    e->data.push_back('{');
    for (const auto& v : t.values.entries) {
      if (e->data.size() > 1) e->data.push_back(',');
      json::append_string(e->data, v.content->name);
      e->data.push_back(':');
      json::serialize_to(e->data, v.obs->value);
      if (v.replaced) e->superseded.emplace_back(v.content->name, v.replaced);
    }
    e->data.push_back('}');
    s.publish_after_commit(std::move(e));
  }
}

void ObservationWriter::step(Shard& s, const std::shared_ptr<Call>& call, std::size_t shard,
                             bool apply) {
  const auto& indices = call->by_shard[shard];
  std::vector<CheckedObservation> checked;
  std::vector<ObservationRejection> rejected;
  const std::uint64_t epoch = s.twin_set_epoch();  // what the checks below found holds for it
  const bool reuse = apply && !call->checked.empty() && call->checked_epoch[shard] == epoch &&
                     call->checked[shard].size() == indices.size();
  if (reuse)
    checked = std::move(call->checked[shard]);
  else
    checked.reserve(indices.size());
  LastTarget last;  // only within this step: no twin is added or removed meanwhile
  for (std::size_t k = 0; !reuse && k < indices.size(); ++k) {
    // The batch was written by another thread and is larger than the caches: ask for the
    // observation a few ahead now (its first two lines hold what the check reads).
    if (k + kPrefetchAhead < indices.size())
      prefetch_observation(call->batch[indices[k + kPrefetchAhead]]);
    const std::size_t i = indices[k];
    CheckedObservation c;
    c.index = i;
    if (Status st = check_observation(s, call->batch[i], c, last); !st.is_ok())
      rejected.push_back({i, st.reason(), st.message()});
    else
      checked.push_back(c);
  }
  std::vector<Status> refusals;  // empty: the hook refused none
  // The hook's findings of the first phase hold too while its own state allows (history: no
  // newer point in any of the batch's series since).
  const bool hook_reused = reuse && hook_ && call->kept[shard] && !checked.empty() &&
                           hook_->reuse_check(s, checked, *call->kept[shard]);
  if (apply && !call->kept.empty()) call->kept[shard].reset();  // used or stale: freed now
  if (hook_ && !checked.empty() && !hook_reused) hook_->check(s, checked, refusals);
  std::size_t refused = 0;
  for (std::size_t k = 0; k < refusals.size(); ++k)
    if (!refusals[k].is_ok()) {
      rejected.push_back({checked[k].index, refusals[k].reason(), refusals[k].message()});
      ++refused;
    }
  // A clean first phase keeps its findings for the second (a refused batch has no second).
  if (!apply && !call->checked.empty() && rejected.empty()) {
    call->checked_epoch[shard] = epoch;
    call->checked[shard] = std::move(checked);
    checked.clear();
    if (hook_ && !call->checked[shard].empty()) call->kept[shard] = hook_->keep_check(s);
  }
  // Refused whole: a single-shard batch here; a multi-shard one was checked everywhere first.
  bool refuse_all = call->mode == IngestMode::reject_whole && !call->two_phase && !rejected.empty();
  std::size_t accepted = 0;
  if (apply && !refuse_all && s.failed()) {
    std::lock_guard lock(call->mu);
    if (call->storage.is_ok())
      call->storage =
          Status(Code::unavailable, "storage failed; restart Castor", "ServiceUnavailable");
  } else if (apply && !refuse_all) {
    accepted = checked.size() - refused;
    apply_twins(s, checked, refusals);
    if (hook_ && accepted > 0) hook_->apply(s, checked);
  }
  {
    std::lock_guard lock(call->mu);
    call->outcome.accepted += accepted;
    for (auto& r : rejected) call->outcome.rejections.push_back(std::move(r));
  }
  if (accepted == 0) return finish_part(call);
  s.after_commit([this, call](const Status& st) {
    if (!st.is_ok()) {
      std::lock_guard lock(call->mu);
      if (call->storage.is_ok()) call->storage = st;
      call->outcome.accepted = 0;  // the commit failed: nothing of it is acknowledged
    }
    finish_part(call);
  });
}

void ObservationWriter::finish_part(const std::shared_ptr<Call>& call) {
  if (--call->pending != 0) return;
  if (call->two_phase && !call->applying && call->mode != IngestMode::validate_only) {
    bool clean;
    {
      std::lock_guard lock(call->mu);
      clean = call->outcome.rejections.empty() && call->storage.is_ok();
    }
    if (clean) return run_phase(call, true);
  }
  finalize(*call);
}

void ObservationWriter::finalize(Call& call) {
  IngestOutcome out = std::move(call.outcome);
  std::sort(out.rejections.begin(), out.rejections.end(),
            [](const ObservationRejection& a, const ObservationRejection& b) {
              return a.index < b.index;
            });
  std::size_t total = call.batch.size();
  if (!call.storage.is_ok()) {
    out.status = call.storage;
  } else if (!out.rejections.empty() &&
             (out.accepted == 0 || (call.mode == IngestMode::reject_whole && !call.applying))) {
    out.status = Status(
        Code::invalid_argument,
        std::to_string(out.rejections.size()) + " of " + std::to_string(total) +
            " observations are invalid" +
            (call.mode == IngestMode::reject_whole
                 ? "; nothing was written (fix them, or send ?partial=true to keep the valid ones)"
                 : "; nothing was written"),
        "InvalidObservations");
    out.accepted = 0;
  } else {
    out.status = Status::ok();
  }
  accepted_.fetch_add(out.accepted, std::memory_order_relaxed);
  rejected_.fetch_add(out.rejections.size(), std::memory_order_relaxed);
  call.done(std::move(out));
}

}  // namespace castor::twin
