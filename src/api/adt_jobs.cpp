#include "api/adt_jobs.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <random>

#include "api/adt_common.hpp"
#include "api/adt_openapi.hpp"

namespace castor::api {
namespace {

using twin::jobs::JobManager;

constexpr std::size_t kJobPage = 100;
constexpr std::uint32_t kDefaultTimeoutMinutes = 720;  // ADT: 12 hours, from 15 minutes to 24 hours

Status validation_failed(std::string message) {
  return {Code::invalid_argument, std::move(message), "ValidationFailed"};
}

// The two fields a client sets; ADT's read-only fields are accepted (a job read back may be
// sent again) and ignored; anything else is a mistake worth a 400.
Result<std::pair<std::string, std::string>> import_body(const HttpRequest& req) {
  auto body = adt::json_body(req);
  if (!body) return body.status();
  if (!body->is_object())
    return validation_failed(
        "send the import job as a JSON object with inputBlobUri and outputBlobUri");
  std::string fields[2];
  const char* names[2] = {"inputBlobUri", "outputBlobUri"};
  for (const auto& kv : body->get_object()) {
    std::string_view key = json::sv(kv.key());
    int which = key == names[0] ? 0 : key == names[1] ? 1 : -1;
    if (which < 0) {
      static constexpr std::string_view read_only[] = {"id",
                                                       "status",
                                                       "createdDateTime",
                                                       "lastActionDateTime",
                                                       "finishedDateTime",
                                                       "purgeDateTime",
                                                       "error",
                                                       "progress"};
      if (std::find(std::begin(read_only), std::end(read_only), key) == std::end(read_only))
        return validation_failed("unknown field \"" + std::string(key) +
                                 "\"; an import job has inputBlobUri and outputBlobUri");
      if (key == "id" &&
          (!kv.value().is_string() || json::sv(kv.value().get_string()) != req.param("id")))
        return validation_failed("\"id\" in the body must equal the job id in the URL");
      continue;
    }
    if (!kv.value().is_string() || kv.value().get_string().empty())
      return validation_failed(std::string(names[which]) +
                               " must be a non-empty string (file://NAME in the import folder)");
    fields[which] = std::string(json::sv(kv.value().get_string()));
  }
  for (int i = 0; i < 2; ++i)
    if (fields[i].empty())
      return validation_failed(std::string("the import job needs ") + names[i]);
  return std::pair{std::move(fields[0]), std::move(fields[1])};
}

template <class Job>
void answer_page(const std::vector<Job>& jobs, const HttpRequest& req, const Responder& resp,
                 bool tls) {
  auto size = adt::page_size(req, kJobPage, kJobPage);
  if (!size) return adt::fail(resp, size.status());
  auto offset = adt::page_offset(req);
  if (!offset) return adt::fail(resp, offset.status());
  std::vector<std::string> items;
  items.reserve(jobs.size());
  for (const auto& j : jobs) items.push_back(twin::jobs::render(j));
  resp.respond(HttpResponse::json(200, adt::page_body(items, *offset, *size, req, tls)));
}

std::string new_operation_id() {
  std::random_device rd;
  std::uniform_int_distribution<unsigned> nibble(0, 15);
  std::string id = "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx";
  for (char& c : id) {
    if (c != 'x' && c != 'y') continue;
    unsigned v = c == 'x' ? nibble(rd) : 8 + nibble(rd) % 4;
    c = "0123456789abcdef"[v];
  }
  return id;
}

Result<std::uint32_t> timeout_minutes(const HttpRequest& req) {
  auto text = req.query_param("timeoutInMinutes");
  if (!text) return kDefaultTimeoutMinutes;
  std::uint32_t n = 0;
  auto r = std::from_chars(text->data(), text->data() + text->size(), n);
  if (r.ec != std::errc() || r.ptr != text->data() + text->size() || n < 15 || n > 1440)
    return validation_failed(
        "timeoutInMinutes must be a whole number of minutes from 15 to 1440 (24 hours)");
  return n;
}

std::string percent_encode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

void create_delete(AdtContext& ctx, JobManager& jobs, const HttpRequest& req,
                   const Responder& resp) {
  auto minutes = timeout_minutes(req);
  if (!minutes) return adt::fail(resp, minutes.status());
  std::string id(req.header("operation-id").value_or(""));
  if (id.empty()) id = new_operation_id();
  std::string location = std::string(ctx.tls ? "https://" : "http://") +
                         std::string(req.header("Host").value_or("localhost")) +
                         "/jobs/deletions/" + percent_encode(id) + "?api-version=" +
                         percent_encode(req.query_param("api-version").value_or("2023-10-31"));
  ctx.worker.post([&jobs, id, minutes = *minutes, location, resp] {
    auto job = jobs.create_delete(id, minutes);
    if (!job) return adt::fail(resp, job.status());
    HttpResponse out = HttpResponse::json(202, twin::jobs::render(*job));
    out.headers.set("Operation-Location", location);
    out.headers.set("Operation-Id", id);
    resp.respond(std::move(out));
  });
}

RouteSpec spec(Method m, std::string path, Access access, std::string op, std::string summary,
               const openapi::Fragment& doc) {
  RouteSpec s;
  s.method = m;
  s.path = std::move(path);
  s.access = access;
  s.api_version = ApiVersion::required;
  s.openapi = {std::move(op), std::move(summary), {"Jobs"}, openapi::fragment(doc)};
  return s;
}

void register_import_routes(Router& router, AdtContext& ctx, JobManager& jobs) {
  router.add(
      spec(Method::put, "/jobs/imports/{id}", Access::admin, "ImportJobs_Add",
           "Creates an import job that reads an NDJSON file from the import folder",
           {.request_schema = "ImportJob", .success = 201, .response_schema = "ImportJob"}),
      [&ctx, &jobs](HttpRequest req, Responder resp) {
        auto body = import_body(req);
        if (!body) return adt::fail(resp, body.status());
        ctx.worker.post([&jobs, id = std::string(req.param("id")), body = std::move(*body), resp] {
          auto job = jobs.create_import(id, body.first, body.second);
          if (!job) return adt::fail(resp, job.status());
          resp.respond(HttpResponse::json(201, twin::jobs::render(*job)));
        });
      });
  router.add(spec(Method::get, "/jobs/imports", Access::viewer, "ImportJobs_List",
                  "Lists import jobs, oldest first",
                  {.response_schema = "ImportJobCollection", .paged = true}),
             [&ctx, &jobs](HttpRequest req, Responder resp) {
               answer_page(jobs.list_imports(), req, resp, ctx.tls);
             });
  router.add(spec(Method::get, "/jobs/imports/{id}", Access::viewer, "ImportJobs_GetById",
                  "Retrieves an import job with its status and progress",
                  {.response_schema = "ImportJob"}),
             [&jobs](HttpRequest req, Responder resp) {
               auto job = jobs.get_import(req.param("id"));
               if (!job) return adt::fail(resp, job.status());
               resp.respond(HttpResponse::json(200, twin::jobs::render(*job)));
             });
  router.add(spec(Method::delete_, "/jobs/imports/{id}", Access::admin, "ImportJobs_Delete",
                  "Deletes an import job that is not running (its id may then be reused)",
                  {.success = 204}),
             [&ctx, &jobs](HttpRequest req, Responder resp) {
               ctx.worker.post([&jobs, id = std::string(req.param("id")), resp] {
                 Status s = jobs.delete_import(id);
                 if (!s.is_ok()) return adt::fail(resp, s);
                 resp.respond(HttpResponse::empty(204));
               });
             });
  router.add(spec(Method::post, "/jobs/imports/{id}/cancel", Access::admin, "ImportJobs_Cancel",
                  "Cancels a waiting or running import job; what it imported stays",
                  {.response_schema = "ImportJob"}),
             [&ctx, &jobs](HttpRequest req, Responder resp) {
               ctx.worker.post([&jobs, id = std::string(req.param("id")), resp] {
                 auto job = jobs.cancel_import(id);
                 if (!job) return adt::fail(resp, job.status());
                 resp.respond(HttpResponse::json(200, twin::jobs::render(*job)));
               });
             });
}

void register_delete_routes(Router& router, AdtContext& ctx, JobManager& jobs) {
  router.add(
      spec(Method::post, "/jobs/deletions", Access::admin, "DeleteJobs_Add",
           "Starts a job that deletes every model, twin and relationship",
           {.success = 202, .response_schema = "DeleteJob"}),
      [&ctx, &jobs](HttpRequest req, Responder resp) { create_delete(ctx, jobs, req, resp); });
  router.add(spec(Method::get, "/jobs/deletions", Access::viewer, "DeleteJobs_List",
                  "Lists delete jobs, oldest first",
                  {.response_schema = "DeleteJobCollection", .paged = true}),
             [&ctx, &jobs](HttpRequest req, Responder resp) {
               answer_page(jobs.list_deletes(), req, resp, ctx.tls);
             });
  router.add(spec(Method::get, "/jobs/deletions/{id}", Access::viewer, "DeleteJobs_GetById",
                  "Retrieves a delete job", {.response_schema = "DeleteJob"}),
             [&jobs](HttpRequest req, Responder resp) {
               auto job = jobs.get_delete(req.param("id"));
               if (!job) return adt::fail(resp, job.status());
               resp.respond(HttpResponse::json(200, twin::jobs::render(*job)));
             });
}

}  // namespace

Result<std::unique_ptr<JobManager>> open_job_manager(twin::Engine& engine, const Config& config) {
  twin::jobs::JobManagerOptions options;
  options.import_dir = config.import_dir.empty() ? std::filesystem::path(config.data_dir) / "import"
                                                 : std::filesystem::path(config.import_dir);
  return JobManager::open(engine, std::move(options));
}

void register_job_routes(Router& router, AdtContext& ctx, JobManager& jobs) {
  register_import_routes(router, ctx, jobs);
  register_delete_routes(router, ctx, jobs);
}

std::string job_schemas() {
  return R"({"components": {"schemas": {
  "JobError": {"type": "object", "properties": {"code": {"type": "string"}, "message": {"type": "string"},
    "details": {"type": "array", "items": {"type": "object", "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}}},
  "ImportJob": {"type": "object", "required": ["inputBlobUri", "outputBlobUri"], "description": "An import job. inputBlobUri and outputBlobUri are file:// paths inside Castor's import folder.",
    "properties": {"id": {"type": "string", "readOnly": true}, "inputBlobUri": {"type": "string"}, "outputBlobUri": {"type": "string"},
      "status": {"type": "string", "readOnly": true, "enum": ["notstarted", "running", "failed", "succeeded", "cancelling", "cancelled"]},
      "createdDateTime": {"type": "string", "format": "date-time", "readOnly": true}, "lastActionDateTime": {"type": "string", "format": "date-time", "readOnly": true},
      "finishedDateTime": {"type": "string", "format": "date-time", "readOnly": true}, "purgeDateTime": {"type": "string", "format": "date-time", "readOnly": true},
      "error": {"$ref": "#/components/schemas/JobError"},
      "progress": {"type": "object", "readOnly": true, "description": "Castor: entities imported so far (durable), and entities that failed.",
        "properties": {"models": {"type": "integer"}, "twins": {"type": "integer"}, "relationships": {"type": "integer"}, "errors": {"type": "integer"}}}}},
  "ImportJobCollection": {"type": "object", "properties": {"value": {"type": "array", "items": {"$ref": "#/components/schemas/ImportJob"}}, "nextLink": {"type": "string"}}},
  "DeleteJob": {"type": "object", "properties": {"id": {"type": "string"}, "status": {"type": "string", "enum": ["notstarted", "running", "failed", "succeeded"]},
    "createdDateTime": {"type": "string", "format": "date-time"}, "finishedDateTime": {"type": "string", "format": "date-time"},
    "purgeDateTime": {"type": "string", "format": "date-time"}, "error": {"$ref": "#/components/schemas/JobError"}}},
  "DeleteJobCollection": {"type": "object", "properties": {"value": {"type": "array", "items": {"$ref": "#/components/schemas/DeleteJob"}}, "nextLink": {"type": "string"}}}
}}})";
}

}  // namespace castor::api
