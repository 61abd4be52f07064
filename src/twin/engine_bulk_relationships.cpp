// Engine: bulk relationships for import jobs, in three rounds of shard tasks driven by the
// calling thread — as put_relationship does for one, but thousands per task:
//   1. on the targets' shards: the target must exist; reserve its incoming edge (pending);
//   2. on the sources' shards: validate against the source's model, store, one commit per shard;
//   3. on the targets' shards: confirm the reservations that were stored, release the others.
#include <unordered_map>

#include "model/instance_validator.hpp"
#include "twin/codec.hpp"
#include "twin/countdown.hpp"
#include "twin/engine.hpp"
#include "twin/errors.hpp"
#include "twin/twin_json.hpp"

namespace castor::twin {

namespace {

struct RelItem {
  BulkItem in;  // moved, never copied: its document may live in the importer's arena
  std::string source, id, target, name;
  model::InterfacePtr target_model;
  Status status;
  bool reserved = false;   // round 1 added a pending incoming edge
  bool already = false;    // the target already had this edge (a replace with the same target)
  bool stored = false;     // round 2 stored it durably
  std::string old_target;  // a replace moved it away from this twin
};

}  // namespace

struct Engine::BulkRelationships {
  std::vector<RelItem> items;
  std::vector<std::vector<std::size_t>> by_target, by_source;  // item indices per shard
};

namespace {

std::string text_member(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(json::sv(v->get_string())) : std::string();
}

// The relationship's own properties (every member not starting with '$') as compact JSON,
// written straight from the document.
std::string own_properties(const json::object& body) {
  std::string out;
  for (const auto& kv : body) {
    if (!kv.key().empty() && kv.key().front() == '$') continue;
    out.push_back(out.empty() ? '{' : ',');
    json::append_string(out, json::sv(kv.key()));
    out.push_back(':');
    json::serialize_to(out, kv.value());
  }
  if (!out.empty()) out.push_back('}');
  return out;
}

std::size_t count_named(const Twin& t, std::string_view name, std::string_view except_id) {
  std::size_t n = 0;
  for (const auto& r : t.outgoing())
    if (r.name == name && r.id != except_id) ++n;
  return n;
}

Status check_item(const std::string& source, const std::string& id, const std::string& name,
                  const std::string& target) {
  if (source.empty())
    return errors::validation_failed(
        "a relationship of an import file needs \"$dtId\" (its source twin)");
  if (id.empty()) return errors::validation_failed("a relationship needs \"$relationshipId\"");
  if (name.empty()) return errors::invalid("a relationship needs \"$relationshipName\"");
  if (target.empty()) return errors::invalid("a relationship needs \"$targetId\"");
  CASTOR_RETURN_IF_ERROR(check_id(source, "twin"));
  CASTOR_RETURN_IF_ERROR(check_id(id, "relationship"));
  if (target == source)
    return Status(Code::invalid_argument, "a relationship cannot connect a twin to itself",
                  "OperationNotAllowed");
  return Status::ok();
}

// Round 2's checks of a relationship against its source twin, as put_relationship makes them.
Status fits_source(const Twin& src, const RelItem& it, bool replacing, std::size_t max_per_twin) {
  Status st = model::validate_relationship(*src.model, it.in.doc, it.target_model.get());
  if (!st.is_ok()) return errors::validation_failed(st.message());
  const model::ContentDef* def = src.model->find(it.name);
  if (def && def->max_multiplicity >= 0 &&
      count_named(src, it.name, it.id) + 1 > static_cast<std::size_t>(def->max_multiplicity))
    return errors::validation_failed("relationship '" + it.name + "' of model " + src.model->id +
                                     " allows at most " + std::to_string(def->max_multiplicity) +
                                     " instances per twin");
  if (!replacing && src.outgoing().size() >= max_per_twin)
    return errors::validation_failed("twin '" + it.source +
                                     "' already has the maximum number of relationships");
  return Status::ok();
}

// Stores the relationship on its source (memory and the shard's batch); true when it is new.
bool store_on_source(Shard& s, Twin& src, RelItem& it, const Relationship* existing) {
  Relationship r{it.id, it.name, it.target, s.new_etag(), own_properties(it.in.doc)};
  std::string bytes;
  encode_relationship(r, bytes);
  s.batch().put(s.context().relationships_cf, relationship_key(it.source, it.id), bytes);
  if (existing && existing->target != it.target) it.old_target = existing->target;
  if (!existing) {
    src.outgoing().push_back(std::move(r));
    return true;
  }
  for (auto& x : src.outgoing())
    if (x.id == it.id) x = std::move(r);
  return false;
}

}  // namespace

BulkOutcome Engine::import_relationships(std::vector<BulkItem> input) {
  BulkRelationships b;
  b.items.reserve(input.size());
  b.by_target.resize(shards_.size());
  b.by_source.resize(shards_.size());
  for (BulkItem& in : input) {
    RelItem it{std::move(in)};
    const json::object& doc = it.in.doc;
    it.source = text_member(doc, "$dtId");
    it.id = text_member(doc, "$relationshipId");
    it.target = text_member(doc, "$targetId");
    it.name = text_member(doc, "$relationshipName");
    it.in.doc.erase("$dtId");  // the relationship document proper has $sourceId, if anything
    it.status = check_item(it.source, it.id, it.name, it.target);
    if (it.status.is_ok()) b.by_target[shard_of(it.target)].push_back(b.items.size());
    b.items.push_back(std::move(it));
  }
  input.clear();
  reserve_targets(b);
  attach_to_sources(b);
  settle_targets(b);
  BulkOutcome out;
  for (auto& it : b.items) {
    if (it.stored)
      ++out.imported;
    else
      out.errors.push_back({it.in.line, it.source + "/" + it.id, std::move(it.status)});
  }
  return out;
}

// Round 1, on each target's shard.
void Engine::reserve_targets(BulkRelationships& b) {
  auto countdown = Countdown::make(shards_.size());
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    const std::vector<std::size_t>* mine = &b.by_target[i];
    auto task = [this, &b, mine, countdown](Shard& ts) {
      for (std::size_t k : *mine) {
        auto& it = b.items[k];
        const Twin* tgt = ts.find(it.target);
        if (!tgt) {
          it.status = errors::target_not_found(it.target);
          continue;
        }
        const auto* in = ts.incoming(it.target);
        if (in)
          for (const auto& e : *in)
            it.already |= e.source == it.source && e.relationship_id == it.id;
        if (!it.already && in && in->size() >= options_.max_relationships_per_twin) {
          it.status = errors::validation_failed(
              "twin '" + it.target + "' already has the maximum of " +
              std::to_string(options_.max_relationships_per_twin) + " incoming relationships");
          continue;
        }
        if (!it.already) ts.add_incoming(it.target, IncomingEdge{it.source, it.id, it.name, true});
        it.reserved = !it.already;
        it.target_model = tgt->model;
      }
      countdown->count_down();
    };
    if (!post_waiting(i, task)) {
      for (std::size_t k : *mine)
        b.items[k].status = Status(Code::unavailable, "Castor is overloaded; run the import again",
                                   "ServiceUnavailable");
      countdown->count_down();
    }
  }
  countdown->wait();
  for (std::size_t k = 0; k < b.items.size(); ++k)
    if (b.items[k].target_model) b.by_source[shard_of(b.items[k].source)].push_back(k);
}

// Round 2, on each source's shard: validate, store, and wait for the shard's commit.
void Engine::attach_to_sources(BulkRelationships& b) {
  auto countdown = Countdown::make(shards_.size());
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    const std::vector<std::size_t>* mine = &b.by_source[i];
    auto task = [this, &b, mine, countdown](Shard& s) {
      std::vector<std::size_t> written;
      for (std::size_t k : *mine) {
        auto& it = b.items[k];
        Twin* src = s.find(it.source);
        if (!src) {
          it.status = errors::twin_not_found(it.source);
          continue;
        }
        const Relationship* existing = src->relationship(it.id);
        it.status = fits_source(*src, it, existing != nullptr, options_.max_relationships_per_twin);
        if (!it.status.is_ok()) continue;
        if (store_on_source(s, *src, it, existing)) ++relationship_count_;
        written.push_back(k);
      }
      s.after_commit([&b, written = std::move(written), countdown](const Status& st) {
        for (std::size_t k : written) {
          b.items[k].stored = st.is_ok();
          if (!st.is_ok()) b.items[k].status = st;
        }
        countdown->count_down();
      });
    };
    if (!post_waiting(i, task)) {
      for (std::size_t k : *mine)
        b.items[k].status = Status(Code::unavailable, "Castor is overloaded; run the import again",
                                   "ServiceUnavailable");
      countdown->count_down();
    }
  }
  countdown->wait();
}

// Round 3, on the targets' shards. When the file names one relationship several times, the one
// stored last wins: every other edge it reserved or moved away from goes, its edge stays.
void Engine::settle_targets(BulkRelationships& b) {
  constexpr std::size_t kNone = std::size_t(-1);
  // Only a replace (or a repeat, which looks like one) needs the map; most imports have none.
  bool replaces = false;
  for (const auto& it : b.items) replaces |= it.already || !it.old_target.empty();
  std::unordered_map<std::string, std::size_t> last_stored;
  for (std::size_t k = 0; replaces && k < b.items.size(); ++k)
    if (b.items[k].stored) last_stored[relationship_key(b.items[k].source, b.items[k].id)] = k;
  struct Change {
    const RelItem* item;
    const std::string* target;
    bool keep;  // confirm (and add if a removal took it); otherwise remove
  };
  std::vector<std::vector<Change>> work(shards_.size());
  auto add = [&](const RelItem& it, const std::string& target, bool keep) {
    work[shard_of(target)].push_back({&it, &target, keep});
  };
  for (std::size_t k = 0; k < b.items.size(); ++k) {
    const auto& it = b.items[k];
    if (!it.reserved && !it.stored) continue;
    std::size_t final_index = it.stored ? k : kNone;
    if (replaces) {
      auto f = last_stored.find(relationship_key(it.source, it.id));
      final_index = f == last_stored.end() ? kNone : f->second;
    }
    const std::string* final_target = final_index == kNone ? nullptr : &b.items[final_index].target;
    if (!final_target || it.target != *final_target) add(it, it.target, false);
    if (it.stored && !it.old_target.empty() && (!final_target || it.old_target != *final_target))
      add(it, it.old_target, false);
    if (k == final_index) add(it, it.target, true);
  }
  auto countdown = Countdown::make(shards_.size());
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    const std::vector<Change>* mine = &work[i];
    auto task = [mine, countdown](Shard& ts) {
      for (const Change& c : *mine)
        if (!c.keep) ts.remove_incoming(*c.target, c.item->source, c.item->id);
      for (const Change& c : *mine) {
        if (!c.keep) continue;
        bool found = false;
        if (auto* in = ts.incoming(*c.target))
          for (auto& e : *in)
            if (e.source == c.item->source && e.relationship_id == c.item->id) {
              e.pending = false;
              e.name = c.item->name;
              found = true;
            }
        if (!found)
          ts.add_incoming(*c.target, IncomingEdge{c.item->source, c.item->id, c.item->name, false});
      }
      countdown->count_down();
    };
    // Settling must happen, or reservations would linger: wait as long as it takes.
    while (!post_waiting(i, task)) {
    }
  }
  countdown->wait();
}

}  // namespace castor::twin
