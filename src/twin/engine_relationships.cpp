// Engine: relationships. A relationship lives with its source twin; its target's shard keeps an
// incoming edge. Creation reserves the incoming edge on the target's shard first (so the target
// cannot be deleted meanwhile), then validates and commits on the source's shard, then confirms
// (or releases) the reservation.
#include "common/strings.hpp"
#include "model/instance_validator.hpp"
#include "twin/codec.hpp"
#include "twin/engine.hpp"
#include "twin/errors.hpp"
#include "twin/twin_json.hpp"

namespace castor::twin {
namespace {

Status check_rel_conditions(const Conditions& c, const Relationship* existing, std::string_view rel_id) {
  if (c.if_none_match_star && existing)
    return errors::precondition_failed("relationship '" + std::string(rel_id) + "' already exists (If-None-Match: *)");
  if (!c.if_match.empty()) {
    if (!existing) return errors::precondition_failed("relationship '" + std::string(rel_id) + "' does not exist (If-Match)");
    if (!etag_matches(c.if_match, existing->etag))
      return errors::precondition_failed("relationship '" + std::string(rel_id) + "' has changed: its ETag is " +
                                         format_etag(existing->etag));
  }
  return Status::ok();
}

std::shared_ptr<ChangeEvent> rel_event(EventType type, const Twin& source, const Relationship& r, Nanos now) {
  auto e = std::make_shared<ChangeEvent>();
  e->type = type;
  e->time = now;
  e->twin_id = source.id;
  e->model_id = source.model->id;
  e->relationship_id = r.id;
  render_relationship(source.id, r, e->data);
  return e;
}

// The relationship's own properties: every member not starting with '$'.
std::string own_properties(const json::object& body) {
  json::object props;
  for (const auto& kv : body)
    if (kv.key().empty() || kv.key().front() != '$') props[kv.key()] = kv.value();
  return props.empty() ? std::string() : json::serialize(props);
}

std::size_t count_named(const Twin& t, std::string_view name, std::string_view except_id) {
  std::size_t n = 0;
  for (const auto& r : t.outgoing())
    if (r.name == name && r.id != except_id) ++n;
  return n;
}

}  // namespace

void Engine::put_relationship(std::string id, std::string rel_id, json::value body, Conditions c,
                              Callback<Rendered> done) {
  if (Status s = check_id(id, "twin"); !s.is_ok()) return done(s);
  if (Status s = check_id(rel_id, "relationship"); !s.is_ok()) return done(s);
  if (!body.is_object()) return done(errors::invalid("a relationship must be a JSON object"));
  const json::object& o = body.get_object();
  const json::value* name = o.if_contains("$relationshipName");
  const json::value* target = o.if_contains("$targetId");
  if (!name || !name->is_string() || name->get_string().empty())
    return done(errors::invalid("a relationship needs \"$relationshipName\""));
  if (!target || !target->is_string() || target->get_string().empty())
    return done(errors::invalid("a relationship needs \"$targetId\""));
  if (const auto* src = o.if_contains("$sourceId"); src && (!src->is_string() || json::sv(src->get_string()) != id))
    return done(errors::invalid("$sourceId must equal the twin id in the URL"));
  if (const auto* rid = o.if_contains("$relationshipId"); rid && (!rid->is_string() || json::sv(rid->get_string()) != rel_id))
    return done(errors::invalid("$relationshipId must equal the relationship id in the URL"));
  std::string target_id(json::sv(target->get_string()));
  if (target_id == id)
    return done(Status(Code::invalid_argument, "a relationship cannot connect a twin to itself", "OperationNotAllowed"));

  // Step 1, on the target's shard: the target must exist; reserve its incoming edge.
  std::string rel_name(json::sv(name->get_string()));
  post(target_id, [this, id, rel_id, rel_name, target_id, body = std::move(body), c, done](Shard& ts) mutable {
    Twin* tgt = ts.find(target_id);
    if (!tgt) return done(errors::target_not_found(target_id));
    const auto* in = ts.incoming(target_id);
    bool already = false;
    if (in)
      for (const auto& e : *in) already |= e.source == id && e.relationship_id == rel_id;
    if (!already && in && in->size() >= options_.max_relationships_per_twin)
      return done(errors::validation_failed("twin '" + target_id + "' already has the maximum of " +
                                            std::to_string(options_.max_relationships_per_twin) +
                                            " incoming relationships"));
    if (!already) ts.add_incoming(target_id, IncomingEdge{id, rel_id, rel_name, true});
    model::InterfacePtr target_model = tgt->model;
    // Step 2, on the source's shard.
    post(id, [this, id, rel_id, body = std::move(body), c, target_model, done](Shard& ss) mutable {
      create_relationship_on_source(ss, id, rel_id, std::move(body.get_object()), c, target_model, done);
    }, [this, target_id, id, rel_id, already, done](Status st) {
      if (!already) post(target_id, [target_id, id, rel_id](Shard& t2) { t2.remove_incoming(target_id, id, rel_id); }, [](Status) {});
      done(st);
    });
  }, done);
}

void Engine::create_relationship_on_source(Shard& s, std::string id, std::string rel_id, json::object body,
                                           Conditions c, model::InterfacePtr target_model, Callback<Rendered> done) {
  std::string target_id(json::sv(body.at("$targetId").get_string()));
  std::string name(json::sv(body.at("$relationshipName").get_string()));
  // Releases or confirms the reservation on the target's shard.
  auto settle = [this, target_id, id, rel_id](bool keep, bool was_existing_same_target) {
    post(target_id, [target_id, id, rel_id, keep, was_existing_same_target](Shard& ts) {
      auto* in = ts.incoming(target_id);
      if (!in) return;
      for (auto& e : *in)
        if (e.source == id && e.relationship_id == rel_id) e.pending = false;
      if (!keep && !was_existing_same_target) ts.remove_incoming(target_id, id, rel_id);
    }, [](Status) {});
  };
  auto fail = [&](Status st, bool existing_same_target) {
    settle(false, existing_same_target);
    done(std::move(st));
  };

  Twin* src = s.find(id);
  if (!src) return fail(errors::twin_not_found(id), false);
  const Relationship* existing = src->relationship(rel_id);
  bool same_target = existing && existing->target == target_id;
  if (s.failed()) return fail(Status(Code::unavailable, "storage failed; restart Castor", "ServiceUnavailable"), same_target);
  if (Status st = check_rel_conditions(c, existing, rel_id); !st.is_ok()) return fail(st, same_target);
  if (Status st = model::validate_relationship(*src->model, body, target_model.get()); !st.is_ok())
    return fail(Status(Code::invalid_argument, st.message(), "ValidationFailed"), same_target);
  const model::ContentDef* def = src->model->find(name);
  if (def && def->max_multiplicity >= 0 &&
      count_named(*src, name, rel_id) + 1 > static_cast<std::size_t>(def->max_multiplicity))
    return fail(Status(Code::invalid_argument,
                       "relationship '" + name + "' of model " + src->model->id + " allows at most " +
                           std::to_string(def->max_multiplicity) + " instances per twin",
                       "ValidationFailed"),
                same_target);
  if (!existing && src->outgoing().size() >= options_.max_relationships_per_twin)
    return fail(errors::validation_failed("twin '" + id + "' already has the maximum number of relationships"), false);

  Relationship r{rel_id, name, target_id, s.new_etag(), own_properties(body)};
  std::string old_target = existing && !same_target ? existing->target : std::string();
  bool created = existing == nullptr;
  if (existing) {
    for (auto& x : src->outgoing())
      if (x.id == rel_id) x = r;
  } else {
    src->outgoing().push_back(r);
    ++relationship_count_;
  }
  std::string bytes;
  encode_relationship(r, bytes);
  s.batch().put(s.context().relationships_cf, relationship_key(id, rel_id), bytes);
  Nanos now = s.now();
  s.publish_after_commit(rel_event(created ? EventType::relationship_create : EventType::relationship_update, *src, r, now));
  Rendered out;
  render_relationship(id, r, out.json);
  out.etag = format_etag(r.etag);
  s.after_commit([this, settle, old_target, id, rel_id, done, out = std::move(out)](const Status& st) mutable {
    settle(st.is_ok(), false);
    if (st.is_ok() && !old_target.empty())
      post(old_target, [old_target, id, rel_id](Shard& os) { os.remove_incoming(old_target, id, rel_id); }, [](Status) {});
    if (!st.is_ok()) return done(st);
    done(std::move(out));
  });
}

void Engine::get_relationship(std::string id, std::string rel_id, Callback<Rendered> done) {
  if (Status s = check_id(id, "twin"); !s.is_ok()) return done(s);
  post(id, [id, rel_id, done](Shard& s) {
    const Twin* t = s.find(id);
    if (!t) return done(errors::twin_not_found(id));
    const Relationship* r = t->relationship(rel_id);
    if (!r) return done(errors::relationship_not_found(id, rel_id));
    Rendered out;
    render_relationship(id, *r, out.json);
    out.etag = format_etag(r->etag);
    done(std::move(out));
  }, done);
}

void Engine::patch_relationship(std::string id, std::string rel_id, json::value patch, Conditions c,
                                Callback<std::string> done) {
  if (Status s = check_id(id, "twin"); !s.is_ok()) return done(s);
  if (Status s = check_id(rel_id, "relationship"); !s.is_ok()) return done(s);
  post(id, [id, rel_id, patch = std::move(patch), c, done](Shard& s) {
    if (s.failed()) return done(Status(Code::unavailable, "storage failed; restart Castor", "ServiceUnavailable"));
    Twin* t = s.find(id);
    if (!t) return done(errors::twin_not_found(id));
    Relationship* r = nullptr;
    for (auto& x : t->outgoing())
      if (x.id == rel_id) r = &x;
    if (!r) return done(errors::relationship_not_found(id, rel_id));
    if (Status st = check_rel_conditions(c, r, rel_id); !st.is_ok()) return done(st);
    Relationship updated = *r;
    if (Status st = twin::patch_relationship(*t->model, updated, patch); !st.is_ok()) return done(st);
    updated.etag = s.new_etag();
    *r = updated;
    std::string bytes;
    encode_relationship(*r, bytes);
    s.batch().put(s.context().relationships_cf, relationship_key(id, rel_id), bytes);
    s.publish_after_commit(rel_event(EventType::relationship_update, *t, *r, s.now()));
    s.after_commit([done, etag = format_etag(r->etag)](const Status& st) {
      if (!st.is_ok()) return done(st);
      done(etag);
    });
  }, done);
}

void Engine::delete_relationship(std::string id, std::string rel_id, Conditions c, Done done) {
  if (Status s = check_id(id, "twin"); !s.is_ok()) return done(s);
  if (Status s = check_id(rel_id, "relationship"); !s.is_ok()) return done(s);
  post(id, [this, id, rel_id, c, done](Shard& s) {
    if (s.failed()) return done(Status(Code::unavailable, "storage failed; restart Castor", "ServiceUnavailable"));
    Twin* t = s.find(id);
    if (!t) return done(errors::twin_not_found(id));
    const Relationship* r = t->relationship(rel_id);
    if (!r) return done(errors::relationship_not_found(id, rel_id));
    if (Status st = check_rel_conditions(c, r, rel_id); !st.is_ok()) return done(st);
    std::string target = r->target;
    s.publish_after_commit(rel_event(EventType::relationship_delete, *t, *r, s.now()));
    s.batch().erase(s.context().relationships_cf, relationship_key(id, rel_id));
    std::erase_if(t->outgoing(), [&](const Relationship& x) { return x.id == rel_id; });
    --relationship_count_;
    s.after_commit([this, target, id, rel_id, done](const Status& st) {
      if (st.is_ok())
        post(target, [target, id, rel_id](Shard& ts) { ts.remove_incoming(target, id, rel_id); }, [](Status) {});
      done(st);
    });
  }, done);
}

void Engine::list_relationships(std::string id, std::string name, Callback<std::vector<std::string>> done) {
  if (Status s = check_id(id, "twin"); !s.is_ok()) return done(s);
  post(id, [id, name, done](Shard& s) {
    const Twin* t = s.find(id);
    if (!t) return done(errors::twin_not_found(id));
    std::vector<std::string> out;
    for (const auto& r : std::as_const(*t).outgoing()) {
      if (!name.empty() && r.name != name) continue;
      out.emplace_back();
      render_relationship(id, r, out.back());
    }
    done(std::move(out));
  }, done);
}

void Engine::list_incoming(std::string id, Callback<std::vector<std::string>> done) {
  if (Status s = check_id(id, "twin"); !s.is_ok()) return done(s);
  post(id, [id, done](Shard& s) {
    if (!s.find(id)) return done(errors::twin_not_found(id));
    std::vector<std::string> out;
    if (const auto* in = s.incoming(id)) {
      for (const auto& e : *in) {
        if (e.pending) continue;
        std::string j = "{\"$relationshipId\":";
        json::append_string(j, e.relationship_id);
        j += ",\"$sourceId\":";
        json::append_string(j, e.source);
        j += ",\"$relationshipName\":";
        json::append_string(j, e.name);
        j += ",\"$relationshipLink\":";
        json::append_string(j, "/digitaltwins/" + percent_encode(e.source) + "/relationships/" +
                                   percent_encode(e.relationship_id));
        j.push_back('}');
        out.push_back(std::move(j));
      }
    }
    done(std::move(out));
  }, done);
}

}  // namespace castor::twin
