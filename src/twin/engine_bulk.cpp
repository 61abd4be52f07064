// Engine: bulk twins for import jobs, and deleting everything for delete jobs. The calling thread
// does the expensive part (validation, building, encoding); shards only insert and write.
#include <chrono>
#include <random>
#include <thread>
#include <unordered_map>

#include "twin/codec.hpp"
#include "twin/countdown.hpp"
#include "twin/engine.hpp"
#include "twin/errors.hpp"
#include "twin/twin_json.hpp"

namespace castor::twin {
namespace {

constexpr auto kPostPatience = std::chrono::seconds(30);
constexpr std::size_t kDeleteSlice = 50000;  // twins one shard deletes per task and commit

// What the shards report back for one import_twins call.
struct TwinImport {
  std::mutex mu;
  BulkOutcome outcome;
  std::size_t shards_left = 0;
  std::function<void(BulkOutcome)> done;

  void finish_shard(std::size_t imported, std::vector<BulkError> errors) {
    std::unique_lock lock(mu);
    outcome.imported += imported;
    for (auto& e : errors) outcome.errors.push_back(std::move(e));
    if (--shards_left > 0) return;
    BulkOutcome out = std::move(outcome);
    lock.unlock();
    done(std::move(out));
  }
};

const json::value* member(const json::object& o, std::string_view key) {
  return o.if_contains(key);
}

std::string string_member(const json::object& o, std::string_view key) {
  const json::value* v = member(o, key);
  return v && v->is_string() ? std::string(json::sv(v->get_string())) : std::string();
}

std::vector<BulkError> all_failed(const std::vector<PreparedTwin>& share, const Status& why) {
  std::vector<BulkError> out;
  out.reserve(share.size());
  for (const auto& p : share) out.push_back({p.line, p.twin->id, why});
  return out;
}

// The model of a twin document (cached per call), or why it cannot have one.
Status model_of(const json::object& doc, const model::ModelRegistry& registry,
                std::unordered_map<std::string, model::RecordPtr>& cache, model::RecordPtr& out) {
  const json::value* meta = member(doc, "$metadata");
  std::string id = meta && meta->is_object() ? string_member(meta->get_object(), "$model") : "";
  if (id.empty())
    return errors::validation_failed("a twin needs \"$metadata\": {\"$model\": \"<model id>\"}");
  auto [it, fresh] = cache.try_emplace(id);
  if (fresh) it->second = registry.get(id);
  out = it->second;
  if (!out)
    return errors::validation_failed(
        "model " + id + " does not exist; put it in the Models section or upload it first");
  if (out->decommissioned)
    return Status(Code::invalid_argument, "model " + id + " is decommissioned; use a newer model",
                  "ModelDecommissioned");
  return Status::ok();
}

}  // namespace

bool Engine::post_waiting(std::size_t index, const Shard::Task& task) {
  auto deadline = std::chrono::steady_clock::now() + kPostPatience;
  while (!shards_[index]->post(task)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

PreparedTwins Engine::prepare_twins(std::vector<BulkItem> items) const {
  PreparedTwins out;
  out.by_shard.resize(shards_.size());
  std::unordered_map<std::string, model::RecordPtr> models;
  std::mt19937_64 etags(std::random_device{}());
  Nanos now = shards_[0]->now();
  for (BulkItem& item : items) {
    std::string id = string_member(item.doc, "$dtId");
    model::RecordPtr rec;
    Status st = member(item.doc, "$dtId")
                    ? check_id(id, "twin")
                    : errors::validation_failed("a twin of an import file needs \"$dtId\"");
    if (st.is_ok()) st = model_of(item.doc, registry_, models, rec);
    PreparedTwin p{item.line, std::make_unique<Twin>(), {}};
    if (st.is_ok()) st = build_twin(id, rec->compiled, item.doc, now, *p.twin);
    if (!st.is_ok()) {
      out.rejected.errors.push_back({item.line, std::move(id), std::move(st)});
      continue;
    }
    p.twin->etag = etags();
    p.bytes.reserve(64 + 48 * p.twin->cells.size());  // name, value and two times per property
    encode_twin(*p.twin, p.bytes);
    out.by_shard[shard_of(id)].push_back(std::move(p));
  }
  return out;
}

void Engine::import_twins(PreparedTwins twins, std::function<void(BulkOutcome)> done) {
  auto& by_shard = twins.by_shard;
  auto state = std::make_shared<TwinImport>();
  state->outcome = std::move(twins.rejected);
  state->done = std::move(done);
  state->shards_left = 1;  // held by this function until every shard task is posted
  for (std::size_t i = 0; i < by_shard.size(); ++i) {
    if (by_shard[i].empty()) continue;
    auto share = std::make_shared<std::vector<PreparedTwin>>(std::move(by_shard[i]));
    {
      std::lock_guard lock(state->mu);
      ++state->shards_left;
    }
    auto task = [this, share, state](Shard& s) {
      if (s.failed())
        return state->finish_shard(
            0, all_failed(*share, Status(Code::unavailable, "storage failed; restart Castor",
                                         "ServiceUnavailable")));
      auto ids = std::make_shared<std::vector<std::pair<std::uint64_t, std::string>>>();
      ids->reserve(share->size());
      std::size_t created = 0;
      for (auto& p : *share) {
        Twin* existing = s.find(p.twin->id);
        if (existing && !std::as_const(*existing).outgoing().empty())
          p.twin->outgoing() = std::move(existing->outgoing());
        created += existing ? 0 : 1;
        ids->emplace_back(p.line, p.twin->id);
        s.batch().put(s.context().twins_cf, p.twin->id, p.bytes);
        if (existing)
          s.insert(std::move(p.twin));
        else
          s.insert_recovered(std::move(p.twin));  // absent: one hash lookup instead of three
      }
      twin_count_ += created;
      share->clear();
      s.after_commit([state, ids](const Status& st) {
        std::vector<BulkError> lost;
        if (!st.is_ok())
          for (auto& [line, id] : *ids) lost.push_back({line, id, st});
        state->finish_shard(st.is_ok() ? ids->size() : 0, std::move(lost));
      });
    };
    if (!post_waiting(i, task))
      state->finish_shard(
          0,
          all_failed(*share, Status(Code::unavailable,
                                    "Castor is overloaded (shard queue full); run the import again",
                                    "ServiceUnavailable")));
  }
  state->finish_shard(0, {});  // this function's own share
}

// --- delete jobs ---

Status Engine::delete_all(const std::function<bool()>& stop) {
  CASTOR_RETURN_IF_ERROR(delete_all_twins(stop));
  return delete_all_models();
}

// Each shard deletes its twins in slices (one task and one commit each) until none is left, so
// every erase is ordered with the shard's other writes of the same keys.
Status Engine::delete_all_twins(const std::function<bool()>& stop) {
  while (true) {
    if (stop && stop())
      return Status(Code::aborted, "the delete job was stopped before it deleted everything");
    struct Slice {
      std::atomic<std::size_t> deleted{0};
      std::mutex mu;
      Status error;
    };
    auto slice = std::make_shared<Slice>();
    auto countdown = Countdown::make(shards_.size());
    for (std::size_t i = 0; i < shards_.size(); ++i) {
      auto task = [this, slice, countdown](Shard& s) {
        std::size_t rels = 0;
        std::vector<std::string> ids = s.some_ids(kDeleteSlice);
        for (const std::string& id : ids) {
          const Twin* t = s.find(id);
          for (const auto& r : t->outgoing())
            s.batch().erase(s.context().relationships_cf, relationship_key(id, r.id));
          rels += t->outgoing().size();
          s.batch().erase(s.context().twins_cf, id);
          s.drop_incoming(id);
          s.erase(id);
        }
        twin_count_ -= ids.size();
        relationship_count_ -= rels;
        slice->deleted += ids.size();
        s.after_commit([slice, countdown](const Status& st) {
          if (!st.is_ok()) {
            std::lock_guard lock(slice->mu);
            slice->error = st;
          }
          countdown->count_down();
        });
      };
      if (!post_waiting(i, task))
        return Status(Code::unavailable,
                      "Castor is overloaded (shard queue full); run the delete job again",
                      "ServiceUnavailable");
    }
    countdown->wait();
    std::lock_guard lock(slice->mu);
    if (!slice->error.is_ok()) return slice->error;
    if (slice->deleted == 0) return Status::ok();
  }
}

// Models go once no twin uses them: dependents first, each removal durable with the rest.
Status Engine::delete_all_models() {
  std::lock_guard lock(models_mu_);
  auto all = registry_.list();
  if (!all) return all.status();
  std::vector<std::string> left;
  for (const auto& r : *all) left.push_back(r->id);
  store::WriteBatch batch;
  while (!left.empty()) {
    std::vector<std::string> still;
    for (const std::string& id : left) {
      if (registry_.remove(id).is_ok())
        batch.erase(models_cf_, id);
      else
        still.push_back(id);
    }
    if (still.size() == left.size())
      return internal_error("models " + still.front() +
                            " and others could not be deleted: they depend on each other");
    left = std::move(still);
  }
  if (batch.empty()) return Status::ok();
  return store_->commit_sync(std::move(batch)).status();
}

}  // namespace castor::twin
