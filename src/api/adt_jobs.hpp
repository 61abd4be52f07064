// ADT import and delete jobs over HTTP: /jobs/imports[/{id}[/cancel]] and /jobs/deletions[/{id}],
// on top of the twin core's JobManager. Handlers only translate; anything that touches files or
// the store runs on the ADT worker thread, never on an I/O thread.
#pragma once

#include <memory>
#include <string>

#include "api/adt_routes.hpp"
#include "common/config.hpp"
#include "twin/jobs/job_manager.hpp"

namespace castor::api {

// The job manager for `castor serve`: import folder from Config::import_dir, default DATA/import.
Result<std::unique_ptr<twin::jobs::JobManager>> open_job_manager(twin::Engine& engine,
                                                                 const Config& config);

void register_job_routes(Router& router, AdtContext& ctx, twin::jobs::JobManager& jobs);

// OpenAPI schemas of the job resources, to merge into the document's static part.
std::string job_schemas();

}  // namespace castor::api
