#include "twin/jobs/job.hpp"

#include "common/json.hpp"

namespace castor::twin::jobs {
namespace {

constexpr std::string_view kStatusNames[] = {"notstarted", "running",    "failed",
                                             "succeeded",  "cancelling", "cancelled"};

void put_time(json::object& o, std::string_view key, Nanos t) {
  if (t) o[key] = format_time(t);
}

Nanos get_time(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  Nanos t = 0;
  if (v && v->is_string()) parse_time(json::sv(v->get_string()), t);
  return t;
}

std::string get_text(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(json::sv(v->get_string())) : std::string();
}

std::uint64_t get_count(const json::object& o, std::string_view key) {
  long long n = 0;
  const json::value* v = o.if_contains(key);
  return v && json::as_int64(*v, n) && n > 0 ? static_cast<std::uint64_t>(n) : 0;
}

void put_error(json::object& o, const std::optional<JobError>& e) {
  if (!e) return;
  json::object err{{"code", e->code}, {"message", e->message}};
  if (!e->details.empty()) {
    json::array details;
    for (const auto& d : e->details)
      details.push_back(json::object{{"code", e->code}, {"message", d}});
    err["details"] = std::move(details);
  }
  o["error"] = std::move(err);
}

std::optional<JobError> get_error(const json::object& o) {
  const json::value* v = o.if_contains("error");
  if (!v || !v->is_object()) return std::nullopt;
  JobError e{get_text(v->get_object(), "code"), get_text(v->get_object(), "message"), {}};
  if (const json::value* d = v->get_object().if_contains("details"); d && d->is_array())
    for (const auto& item : d->get_array())
      if (item.is_object()) e.details.push_back(get_text(item.get_object(), "message"));
  return e;
}

Result<json::object> parse_record(std::string_view text, std::string_view what) {
  auto v = json::parse(text);
  if (!v || !v->is_object()) return internal_error("a stored " + std::string(what) + " is corrupt");
  json::object o = std::move(v->get_object());
  if (!parse_status(get_text(o, "status")))
    return internal_error("a stored " + std::string(what) + " has no valid status");
  return o;
}

}  // namespace

std::string_view status_name(JobStatus s) {
  return kStatusNames[static_cast<int>(s)];
}

std::optional<JobStatus> parse_status(std::string_view s) {
  for (int i = 0; i < 6; ++i)
    if (kStatusNames[i] == s) return static_cast<JobStatus>(i);
  return std::nullopt;
}

bool is_finished(JobStatus s) {
  return s == JobStatus::failed || s == JobStatus::succeeded || s == JobStatus::cancelled;
}

Nanos purge_time(const ImportJob& j) {
  return (j.finished ? j.finished : j.last_action) + kJobRetention;
}
Nanos purge_time(const DeleteJob& j) {
  return (j.finished ? j.finished : j.created) + kJobRetention;
}

std::string render(const ImportJob& j) {
  json::object o;
  o["id"] = j.id;
  o["inputBlobUri"] = j.input_uri;
  o["outputBlobUri"] = j.output_uri;
  o["status"] = status_name(j.status);
  put_time(o, "createdDateTime", j.created);
  put_time(o, "lastActionDateTime", j.last_action);
  put_time(o, "finishedDateTime", j.finished);
  put_time(o, "purgeDateTime", purge_time(j));
  put_error(o, j.error);
  o["progress"] = json::object{{"models", j.progress.models},
                               {"twins", j.progress.twins},
                               {"relationships", j.progress.relationships},
                               {"errors", j.progress.errors}};
  return json::serialize(o);
}

std::string render(const DeleteJob& j, bool stored) {
  json::object o;
  o["id"] = j.id;
  o["status"] = status_name(j.status);
  put_time(o, "createdDateTime", j.created);
  put_time(o, "finishedDateTime", j.finished);
  put_time(o, "purgeDateTime", purge_time(j));
  put_error(o, j.error);
  if (stored) o["timeoutInMinutes"] = j.timeout_minutes;
  return json::serialize(o);
}

Result<ImportJob> parse_import_job(std::string_view text) {
  auto o = parse_record(text, "import job");
  if (!o) return o.status();
  ImportJob j;
  j.id = get_text(*o, "id");
  j.input_uri = get_text(*o, "inputBlobUri");
  j.output_uri = get_text(*o, "outputBlobUri");
  j.status = *parse_status(get_text(*o, "status"));
  j.created = get_time(*o, "createdDateTime");
  j.last_action = get_time(*o, "lastActionDateTime");
  j.finished = get_time(*o, "finishedDateTime");
  j.error = get_error(*o);
  if (const json::value* p = o->if_contains("progress"); p && p->is_object()) {
    const json::object& c = p->get_object();
    j.progress = {get_count(c, "models"), get_count(c, "twins"), get_count(c, "relationships"),
                  get_count(c, "errors")};
  }
  return j;
}

Result<DeleteJob> parse_delete_job(std::string_view text) {
  auto o = parse_record(text, "delete job");
  if (!o) return o.status();
  DeleteJob j;
  j.id = get_text(*o, "id");
  j.status = *parse_status(get_text(*o, "status"));
  j.created = get_time(*o, "createdDateTime");
  j.finished = get_time(*o, "finishedDateTime");
  j.error = get_error(*o);
  if (auto minutes = get_count(*o, "timeoutInMinutes"))
    j.timeout_minutes = static_cast<std::uint32_t>(minutes);
  return j;
}

}  // namespace castor::twin::jobs
