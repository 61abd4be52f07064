#include "api/health.hpp"

#include <algorithm>

#include "common/json.hpp"

namespace castor::api {

void Readiness::require(std::string condition) {
  std::lock_guard lock(mu_);
  for (const auto& [name, met] : conditions_) {
    if (name == condition) return;
  }
  conditions_.emplace_back(std::move(condition), false);
}

void Readiness::satisfy(std::string_view condition) {
  std::lock_guard lock(mu_);
  for (auto& [name, met] : conditions_) {
    if (name == condition) met = true;
  }
}

void Readiness::unsatisfy(std::string_view condition) {
  std::lock_guard lock(mu_);
  for (auto& [name, met] : conditions_) {
    if (name == condition) met = false;
  }
}

bool Readiness::ready() const {
  std::lock_guard lock(mu_);
  return std::all_of(conditions_.begin(), conditions_.end(),
                     [](const auto& c) { return c.second; });
}

std::vector<std::string> Readiness::pending() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, met] : conditions_) {
    if (!met) out.push_back(name);
  }
  return out;
}

void register_health_routes(Router& router, const Readiness& readiness) {
  router.add({.method = Method::get,
              .path = "/healthz",
              .access = Access::anyone,
              .openapi = {.operation_id = "Castor_Healthz",
                          .summary = "Liveness: 200 while the process serves requests.",
                          .tags = {"Operations"}}},
             sync_handler([](const HttpRequest&) {
               return HttpResponse::json(200, std::string(R"({"status":"ok"})"));
             }));
  router.add({.method = Method::get,
              .path = "/readyz",
              .access = Access::anyone,
              .openapi = {.operation_id = "Castor_Readyz",
                          .summary = "Readiness: 200 once start-up is complete, else 503 with "
                                     "the pending conditions.",
                          .tags = {"Operations"}}},
             sync_handler([&readiness](const HttpRequest&) {
               auto pending = readiness.pending();
               if (pending.empty()) {
                 return HttpResponse::json(200, std::string(R"({"status":"ready"})"));
               }
               json::array names;
               for (auto& p : pending) names.emplace_back(p);
               json::object body;
               body["status"] = "starting";
               body["pending"] = std::move(names);
               HttpResponse r = HttpResponse::json(503, json::value(std::move(body)));
               r.headers.set("Retry-After", "1");
               return r;
             }));
}

}  // namespace castor::api
