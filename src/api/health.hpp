// Liveness and readiness: GET /healthz (the process answers) and GET /readyz (every start-up
// condition is met, e.g. "http" and later "engine"), both without authentication. Readiness is a
// set of named conditions so each module flips its own; nothing here knows the engine.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "api/router.hpp"

namespace castor::api {

class Readiness {
 public:
  // Adds a condition that must be satisfied before /readyz answers 200.
  void require(std::string condition);
  void satisfy(std::string_view condition);
  // Marks a condition unmet again (e.g. "http" while shutting down).
  void unsatisfy(std::string_view condition);
  bool ready() const;
  std::vector<std::string> pending() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<std::string, bool>> conditions_;
};

void register_health_routes(Router& router, const Readiness& readiness);

}  // namespace castor::api
