#include "model/registry.hpp"

#include <algorithm>

#include "model/model_parser.hpp"

namespace castor::model {
namespace {

json::object lang_map(const LangString& s) {
  json::object o;
  for (const auto& [lang, text] : s) o[lang.empty() ? "en" : lang] = text;
  return o;
}

ElementIndex top_ancestor(const ParsedModel& m, ElementIndex i) {
  while (m.elements[i].parent != kNoElement) i = m.elements[i].parent;
  return i;
}

// Models an element tree refers to by DTMI through extends or components.
void referenced_models(const ParsedModel& m, ElementIndex root, StringSet& out) {
  for (ElementIndex i = 0; i < m.elements.size(); ++i) {
    const Element& e = m.elements[i];
    if (top_ancestor(m, i) != root) continue;
    for (const auto& member : e.members) {
      if (member.prop != Prop::extends && !(member.prop == Prop::schema && e.cls == Cls::Component))
        continue;
      for (const Ref& r : member.refs)
        if (r.kind == Ref::Kind::reference) out.insert(r.dtmi);
    }
  }
}

std::string top_level_id(const json::value& v) {
  if (!v.is_object()) return {};
  const json::value* id = v.get_object().if_contains("@id");
  return id && id->is_string() ? std::string(json::sv(id->get_string())) : std::string();
}

}  // namespace

std::shared_ptr<const ModelRegistry::Map> ModelRegistry::snapshot() const {
  std::lock_guard lock(ptr_mu_);
  return models_;
}

void ModelRegistry::collect_dependencies(const Map& m, std::string_view id, StringSet& out) const {
  std::vector<std::string> stack{std::string(id)};
  while (!stack.empty()) {
    std::string cur = std::move(stack.back());
    stack.pop_back();
    auto it = m.find(cur);
    if (it == m.end()) continue;
    for (const auto& d : it->second->dependencies)
      if (out.insert(d).second) stack.push_back(d);
  }
}

AddResult ModelRegistry::add(std::span<const json::value> models,
                             std::chrono::system_clock::time_point time) {
  AddResult result;
  if (models.empty()) {
    result.status = invalid_argument("the model list is empty; send a JSON array of DTDL Interfaces");
    result.error = ModelError::invalid;
    return result;
  }
  if (models.size() > options_.max_models_per_add) {
    result.status = resource_exhausted(std::to_string(models.size()) + " models in one request; at most " +
                                       std::to_string(options_.max_models_per_add) + " are accepted");
    result.error = ModelError::too_many;
    return result;
  }
  for (std::size_t i = 0; i < models.size(); ++i) {
    if (!models[i].is_object()) {
      result.status = invalid_argument("model " + std::to_string(i) + " is not a JSON object; each model is one DTDL Interface");
      result.error = ModelError::invalid;
      return result;
    }
  }

  std::lock_guard writer(write_mu_);
  auto current = snapshot();
  for (const auto& m : models) {
    std::string id = top_level_id(m);
    if (!id.empty() && current->count(id)) {
      result.status = already_exists("model " + id + " already exists; models cannot be replaced — "
                                     "upload a new version (e.g. ;2) or delete the old one first");
      result.error = ModelError::already_exists;
      return result;
    }
  }

  // Parse the new models together with the existing models they depend on, transitively, so
  // that cross-model rules (inherited names, extends depth, components) are checked.
  std::vector<json::value> docs(models.begin(), models.end());
  StringSet referenced;
  {
    ParseResult probe = parse_model_values(docs, options_.parse);
    for (ElementIndex t : probe.model.top_level) referenced_models(probe.model, t, referenced);
  }
  StringSet deps;
  for (const auto& r : referenced)
    if (current->count(r)) {
      deps.insert(r);
      collect_dependencies(*current, r, deps);
    }
  std::size_t new_count = docs.size();
  for (const auto& d : deps) docs.push_back(current->at(d)->definition);

  ParseResult parsed = parse_model_values(docs, options_.parse);
  if (!parsed.ok()) {
    for (const auto& e : parsed.diagnostics.errors()) {
      std::string where = e.document < new_count ? "model " + std::to_string(e.document)
                                                 : "existing model " + top_level_id(docs[e.document]);
      result.details.push_back(where + (e.path.empty() ? "" : " at " + e.path) + ": " + e.message +
                               " [" + e.validation_id + "]");
    }
    result.error = parsed.diagnostics.errors().empty() ? ModelError::unresolved : ModelError::invalid;
    std::string msg = "the models are not valid DTDL";
    if (!parsed.diagnostics.unresolved().empty()) {
      msg += "; unresolved references:";
      for (const auto& u : parsed.diagnostics.unresolved()) msg += " " + u;
      msg += " (include these models in the request or upload them first)";
    }
    if (!result.details.empty()) msg += ": " + result.details.front();
    result.status = invalid_argument(msg);
    return result;
  }

  auto compiled = compile_interfaces(parsed.model);
  auto next = std::make_shared<Map>(*current);
  for (ElementIndex t : parsed.model.top_level) {
    const Element& e = parsed.model.elements[t];
    if (e.doc >= new_count) continue;
    auto rec = std::make_shared<ModelRecord>();
    rec->id = e.id;
    rec->definition = docs[e.doc];
    rec->upload_time = time;
    rec->compiled = compiled.at(e.id);
    rec->display_name = lang_map(e.display_name);
    rec->description = lang_map(e.description);
    StringSet direct;
    referenced_models(parsed.model, t, direct);
    for (const auto& d : direct)
      if (current->count(d) || compiled.count(d)) rec->dependencies.push_back(d);
    std::sort(rec->dependencies.begin(), rec->dependencies.end());
    (*next)[rec->id] = rec;
    result.added.push_back(rec);
  }
  {
    std::lock_guard lock(ptr_mu_);
    models_ = std::move(next);
  }
  result.status = Status::ok();
  return result;
}

Status ModelRegistry::restore(std::vector<ModelRecord> records) {
  std::vector<json::value> docs;
  for (const auto& r : records) docs.push_back(r.definition);
  ParseResult parsed = parse_model_values(docs, options_.parse);
  if (!parsed.ok())
    return internal_error("stored models no longer parse: " + parsed.summary(5));
  auto compiled = compile_interfaces(parsed.model);
  auto next = std::make_shared<Map>();
  for (ElementIndex t : parsed.model.top_level) {
    const Element& e = parsed.model.elements[t];
    auto rec = std::make_shared<ModelRecord>(std::move(records[e.doc]));
    rec->compiled = compiled.at(e.id);
    StringSet direct;
    referenced_models(parsed.model, t, direct);
    rec->dependencies.assign(direct.begin(), direct.end());
    std::sort(rec->dependencies.begin(), rec->dependencies.end());
    (*next)[rec->id] = rec;
  }
  std::lock_guard writer(write_mu_);
  std::lock_guard lock(ptr_mu_);
  models_ = std::move(next);
  return Status::ok();
}

RecordPtr ModelRegistry::get(std::string_view id) const {
  auto m = snapshot();
  auto it = m->find(id);
  return it == m->end() ? nullptr : it->second;
}

InterfacePtr ModelRegistry::interface(std::string_view id) const {
  auto r = get(id);
  return r ? r->compiled : nullptr;
}

Result<std::vector<RecordPtr>> ModelRegistry::list(std::span<const std::string> dependencies_for) const {
  auto m = snapshot();
  std::vector<RecordPtr> out;
  if (dependencies_for.empty()) {
    for (const auto& [id, rec] : *m) out.push_back(rec);
  } else {
    StringSet wanted;
    for (const auto& id : dependencies_for) {
      if (!m->count(id)) return not_found("model " + id + " does not exist");
      wanted.insert(id);
      collect_dependencies(*m, id, wanted);
    }
    for (const auto& id : wanted) out.push_back(m->at(id));
  }
  std::sort(out.begin(), out.end(), [](const RecordPtr& a, const RecordPtr& b) { return a->id < b->id; });
  return out;
}

Status ModelRegistry::decommission(std::string_view id) {
  std::lock_guard writer(write_mu_);
  auto current = snapshot();
  auto it = current->find(id);
  if (it == current->end()) return not_found("model " + std::string(id) + " does not exist");
  if (it->second->decommissioned) return Status::ok();
  auto rec = std::make_shared<ModelRecord>(*it->second);
  rec->decommissioned = true;
  auto next = std::make_shared<Map>(*current);
  (*next)[rec->id] = rec;
  std::lock_guard lock(ptr_mu_);
  models_ = std::move(next);
  return Status::ok();
}

std::vector<std::string> ModelRegistry::dependents(std::string_view id) const {
  auto m = snapshot();
  std::vector<std::string> out;
  for (const auto& [other, rec] : *m)
    if (std::find(rec->dependencies.begin(), rec->dependencies.end(), id) != rec->dependencies.end())
      out.push_back(other);
  std::sort(out.begin(), out.end());
  return out;
}

Status ModelRegistry::remove(std::string_view id) {
  std::lock_guard writer(write_mu_);
  auto current = snapshot();
  if (!current->count(id)) return not_found("model " + std::string(id) + " does not exist");
  auto users = dependents(id);
  if (!users.empty()) {
    std::string list;
    for (const auto& u : users) list += (list.empty() ? "" : ", ") + u;
    return failed_precondition("model " + std::string(id) + " is referenced by " + list +
                               "; delete those models first");
  }
  auto next = std::make_shared<Map>(*current);
  next->erase(std::string(id));
  std::lock_guard lock(ptr_mu_);
  models_ = std::move(next);
  return Status::ok();
}

void ModelRegistry::reinstate(RecordPtr record) {
  std::lock_guard writer(write_mu_);
  auto next = std::make_shared<Map>(*snapshot());
  (*next)[record->id] = std::move(record);
  std::lock_guard lock(ptr_mu_);
  models_ = std::move(next);
}

std::size_t ModelRegistry::size() const { return snapshot()->size(); }

}  // namespace castor::model
