// The dashboard's static files (web/dist, built by Vite): GET / answers index.html and
// GET /assets/{file} the hashed bundles, with content types and cache validators. Serves only
// files directly inside the web root and its assets/ folder; never a path outside them.
#pragma once

#include <string>

#include "api/router.hpp"

namespace castor::api {

// Registers GET / and GET /assets/{file} for the dashboard built into `web_root` (the folder
// holding index.html and assets/). With an empty or unbuilt web root, GET / answers 503 with a
// page that says how to build and pass it; missing files are 404 in the ADT error shape.
void register_web_routes(Router& router, std::string web_root);

// "text/javascript; charset=utf-8" for "index.abc.js"; application/octet-stream when unknown.
std::string_view web_content_type(std::string_view file_name);  // a literal

// True for Vite's content-hashed names (name.HASH.ext with a hash of 8+ characters): such a file
// never changes, so it may be cached as immutable.
bool web_file_is_hashed(std::string_view file_name);

}  // namespace castor::api
