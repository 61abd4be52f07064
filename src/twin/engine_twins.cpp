// Engine: twins and components.
#include "model/instance_validator.hpp"
#include "twin/codec.hpp"
#include "twin/engine.hpp"
#include "twin/errors.hpp"
#include "twin/twin_json.hpp"

namespace castor::twin {
namespace {

Status check_if_match(const Conditions& c, const Twin* existing, std::string_view id) {
  if (c.if_none_match_star && existing)
    return errors::precondition_failed("twin '" + std::string(id) + "' already exists (If-None-Match: *)");
  if (!c.if_match.empty()) {
    if (!existing) return errors::precondition_failed("twin '" + std::string(id) + "' does not exist (If-Match)");
    if (!etag_matches(c.if_match, existing->etag))
      return errors::precondition_failed("twin '" + std::string(id) + "' has changed: its ETag is " +
                                         format_etag(existing->etag) + ", not " + c.if_match);
  }
  return Status::ok();
}

std::shared_ptr<ChangeEvent> twin_event(EventType type, const Twin& t, Nanos now, std::string data) {
  auto e = std::make_shared<ChangeEvent>();
  e->type = type;
  e->time = now;
  e->twin_id = t.id;
  e->model_id = t.model->id;
  e->data = std::move(data);
  return e;
}

void persist(Shard& s, const Twin& t) {
  std::string bytes;
  bytes.reserve(1024);  // a twin of 20 properties encodes to ~700 bytes: no growth instead of six
  encode_twin(t, bytes);
  s.batch().put(s.context().twins_cf, t.id, bytes);
}

}  // namespace

void Engine::get_twin(std::string id, Callback<Rendered> done) {
  if (Status s = check_id(id, "twin"); !s.is_ok()) return done(s);
  post(id, [id, done](Shard& s) {
    const Twin* t = s.find(id);
    if (!t) return done(errors::twin_not_found(id));
    Rendered r;
    render_twin(*t, r.json);
    r.etag = format_etag(t->etag);
    done(std::move(r));
  }, done);
}

void Engine::put_twin(std::string id, json::value body, Conditions c, Callback<Rendered> done) {
  if (Status s = check_id(id, "twin"); !s.is_ok()) return done(s);
  if (!body.is_object()) return done(errors::invalid("a twin must be a JSON object"));
  json::object& doc = body.get_object();
  if (const auto* dtid = doc.if_contains("$dtId"); dtid && (!dtid->is_string() || json::sv(dtid->get_string()) != id))
    return done(errors::invalid("$dtId in the body must equal the twin id in the URL ('" + id + "')"));
  const json::value* meta = doc.if_contains("$metadata");
  const json::value* model_id = meta && meta->is_object() ? meta->get_object().if_contains("$model") : nullptr;
  if (!model_id || !model_id->is_string())
    return done(errors::validation_failed("a twin needs \"$metadata\": {\"$model\": \"<model id>\"}"));
  auto rec = registry_.get(json::sv(model_id->get_string()));
  if (!rec)
    return done(errors::validation_failed("model " + std::string(json::sv(model_id->get_string())) +
                                          " does not exist; upload it first"));
  if (rec->decommissioned)
    return done(Status(Code::invalid_argument, "model " + rec->id + " is decommissioned; use a newer model",
                       "ModelDecommissioned"));
  Nanos now = shards_[0]->now();
  auto fresh = std::make_shared<Twin>();
  if (Status s = build_twin(id, rec->compiled, doc, now, *fresh); !s.is_ok()) return done(s);

  post(id, [this, id, fresh, c, now, done](Shard& s) {
    if (s.failed()) return done(Status(Code::unavailable, "storage failed; restart Castor", "ServiceUnavailable"));
    Twin* existing = s.find(id);
    if (Status st = check_if_match(c, existing, id); !st.is_ok()) return done(st);
    if (!registry_.get(fresh->model->id))  // deleted since the request was validated
      return done(errors::validation_failed("model " + fresh->model->id + " does not exist; upload it first"));
    auto t = std::make_unique<Twin>(std::move(*fresh));
    t->etag = s.new_etag();
    bool created = existing == nullptr;
    if (existing && !existing->outgoing().empty()) t->outgoing() = std::move(existing->outgoing());  // a replace keeps relationships
    Twin& stored = s.insert(std::move(t));
    persist(s, stored);
    Rendered r;
    render_twin(stored, r.json);
    r.etag = format_etag(stored.etag);
    s.publish_after_commit(twin_event(created ? EventType::twin_create : EventType::twin_update, stored, now, r.json));
    if (created) ++twin_count_;
    s.after_commit([done, r = std::move(r)](const Status& st) mutable {
      if (!st.is_ok()) return done(st);
      done(std::move(r));
    });
  }, done);
}

void Engine::patch_twin(std::string id, json::value patch, Conditions c, Callback<std::string> done) {
  patch_component(std::move(id), "", std::move(patch), std::move(c), std::move(done));
}

void Engine::patch_component(std::string id, std::string component, json::value patch, Conditions c,
                             Callback<std::string> done) {
  if (Status s = check_id(id, "twin"); !s.is_ok()) return done(s);
  // Runs once: `done` moves on to the commit's callback.
  post(
      id,
      [id, component, patch = std::move(patch), c, done](Shard& s) mutable {
        if (s.failed())
          return done(
              Status(Code::unavailable, "storage failed; restart Castor", "ServiceUnavailable"));
        Twin* t = s.find(id);
        if (!t) return done(errors::twin_not_found(id));
        if (Status st = check_if_match(c, t, id); !st.is_ok()) return done(st);
        Nanos now = s.now();
        PatchOutcome outcome;
        if (Status st = twin::patch_twin(*t, component, patch, now, outcome); !st.is_ok())
          return done(st);
        if (!outcome.changed) return done(format_etag(t->etag));
        t->etag = s.new_etag();
        s.twin_changed(*t);
        persist(s, *t);
        if (c.commit_record) {
          s.batch().put(c.commit_record->cf, c.commit_record->key, c.commit_record->value);
          c.commit_record->written.store(true, std::memory_order_release);
        }
        auto e =
            twin_event(EventType::twin_update, *t, now, update_event_data(t->model->id, patch));
        e->component = component;
        s.publish_after_commit(std::move(e));
        s.after_commit(
            [done = std::move(done), etag = format_etag(t->etag)](const Status& st) mutable {
              if (!st.is_ok()) return done(st);
              done(std::move(etag));
            });
      },
      done);
}

void Engine::delete_twin(std::string id, Conditions c, Done done) {
  if (Status s = check_id(id, "twin"); !s.is_ok()) return done(s);
  post(id, [this, id, c, done](Shard& s) {
    if (s.failed()) return done(Status(Code::unavailable, "storage failed; restart Castor", "ServiceUnavailable"));
    Twin* t = s.find(id);
    if (!t) return done(errors::twin_not_found(id));
    if (Status st = check_if_match(c, t, id); !st.is_ok()) return done(st);
    const auto* in = s.incoming(id);
    if (!std::as_const(*t).outgoing().empty() || (in && !in->empty()))
      return done(Status(Code::invalid_argument,
                         "twin '" + id + "' still has " + std::to_string(std::as_const(*t).outgoing().size()) + " outgoing and " +
                             std::to_string(in ? in->size() : 0) + " incoming relationships; delete them first",
                         "RelationshipsNotDeleted"));
    std::string json;
    render_twin(*t, json);
    s.publish_after_commit(twin_event(EventType::twin_delete, *t, s.now(), std::move(json)));
    s.batch().erase(s.context().twins_cf, id);
    s.erase(id);
    --twin_count_;
    s.after_commit(done);
  }, done);
}

void Engine::get_component(std::string id, std::string component, Callback<Rendered> done) {
  if (Status s = check_id(id, "twin"); !s.is_ok()) return done(s);
  post(id, [id, component, done](Shard& s) {
    const Twin* t = s.find(id);
    if (!t) return done(errors::twin_not_found(id));
    Rendered r;
    if (!render_component(*t, component, r.json)) return done(errors::component_not_found(id, component));
    r.etag = format_etag(t->etag);
    done(std::move(r));
  }, done);
}

void Engine::send_telemetry(std::string id, std::string component, json::value payload, std::string message_id,
                            Nanos source_time, Done done) {
  if (Status s = check_id(id, "twin"); !s.is_ok()) return done(s);
  // ADT accepts any JSON value as telemetry (its SDK sends a JSON string holding an object);
  // a string that holds a JSON object is unwrapped, and only objects are checked against the model.
  if (payload.is_string()) {
    json::value inner;
    json::ParseError e;
    if (json::parse(json::sv(payload.get_string()), inner, e) && inner.is_object()) payload = std::move(inner);
  }
  post(id, [id, component, payload = std::move(payload), message_id, source_time, done](Shard& s) {
    const Twin* t = s.find(id);
    if (!t) return done(errors::twin_not_found(id));
    if (!component.empty() && !t->model->components.count(component))
      return done(errors::component_not_found(id, component));
    if (payload.is_object())
      if (Status st = model::validate_telemetry(*t->model, component, payload.get_object()); !st.is_ok())
        return done(errors::validation_failed(st.message()));
    auto e = std::make_shared<ChangeEvent>();
    e->type = EventType::telemetry;
    e->time = s.now();
    e->twin_id = id;
    e->model_id = t->model->id;
    e->component = component;
    e->message_id = message_id;
    e->source_time = source_time ? source_time : e->time;
    e->data = json::serialize(payload);
    s.publish_after_commit(std::move(e));
    s.after_commit(done);
  }, done);
}

}  // namespace castor::twin
