#include "api/web_routes.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <utility>

#include <fmt/format.h>

#include "api/error.hpp"

namespace castor::api {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kImmutable = "public, max-age=31536000, immutable";

// A file name we serve: one segment, no hidden files, no separators or NULs. The router has
// decoded the segment already, so "..%2Fx" arrives here as "../x" and is refused.
bool safe_name(std::string_view name) {
  if (name.empty() || name.front() == '.' || name.size() > 255) return false;
  return std::none_of(name.begin(), name.end(),
                      [](char c) { return c == '/' || c == '\\' || c == '\0'; });
}

std::string etag_of(std::string_view body) {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a 64
  for (unsigned char c : body) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return fmt::format("\"{:016x}-{:x}\"", h, body.size());
}

std::optional<std::string> read_regular_file(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return std::move(ss).str();
}

bool matches_etag(const HttpRequest& req, const std::string& etag) {
  auto inm = req.header("If-None-Match");
  if (!inm) return false;
  return *inm == "*" || inm->find(etag) != std::string_view::npos;
}

HttpResponse file_response(const HttpRequest& req, std::string body, std::string_view name,
                           std::string_view cache_control) {
  std::string etag = etag_of(body);
  HttpResponse r;
  if (matches_etag(req, etag)) {
    r = HttpResponse::empty(304);
  } else {
    r = HttpResponse::text(200, std::move(body), web_content_type(name));
  }
  r.headers.set("ETag", etag);
  r.headers.set("Cache-Control", std::string(cache_control));
  r.headers.set("X-Content-Type-Options", "nosniff");
  return r;
}

HttpResponse not_built(const std::string& web_root) {
  std::string where =
      web_root.empty()
          ? "No web root is configured: start castor serve with --web-root DIR "
            "(or CASTOR_WEB_ROOT, or web_root in the config file), DIR being the "
            "web/dist folder of the Castor sources."
          : "The web root " + web_root + " has no index.html: the dashboard is not built.";
  std::string page = R"(<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Castor: the dashboard is not built</title>
<style>body{background:#0f1318;color:#d8dee6;font:15px/1.5 system-ui,sans-serif;max-width:44em;margin:4em auto;padding:0 1em}
code,pre{background:#1b222b;padding:.15em .4em;border-radius:4px}pre{padding:.8em}</style></head><body>
<h1>The Castor dashboard is not built</h1><p>)" +
                     where + R"(</p>
<p>Build it once (Node 20 and npm; <code>scripts/bootstrap.sh</code> does this for you):</p>
<pre>cd web &amp;&amp; npm ci &amp;&amp; npm run build</pre>
<p>then reload this page. The API works without it: see <a href="/openapi.json">/openapi.json</a>.</p>
</body></html>)";
  HttpResponse r = HttpResponse::text(503, std::move(page), "text/html; charset=utf-8");
  r.headers.set("Cache-Control", "no-store");
  return r;
}

constexpr std::string_view kIndexDoc = R"({"responses": {
  "200": {"description": "index.html of the dashboard (Cache-Control: no-cache, ETag).", "content": {"text/html": {"schema": {"type": "string"}}}},
  "304": {"description": "Not modified (If-None-Match matched the ETag)."},
  "503": {"description": "The dashboard is not built or no web root is configured: an HTML page that says how to build it.", "content": {"text/html": {"schema": {"type": "string"}}}}}})";

constexpr std::string_view kAssetDoc = R"({"parameters": [
  {"name": "file", "in": "path", "required": true, "schema": {"type": "string"}, "description": "A file name inside web_root/assets (no folders)."}],
  "responses": {
  "200": {"description": "The file, with its content type and an ETag; content-hashed names are Cache-Control: immutable.", "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}},
  "304": {"description": "Not modified (If-None-Match matched the ETag)."},
  "404": {"description": "No such file (FileNotFound).", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}}})";

}  // namespace

std::string_view web_content_type(std::string_view file_name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 16> kTypes{{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json; charset=utf-8"},
      {".map", "application/json; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".webp", "image/webp"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".woff", "font/woff"},
      {".wasm", "application/wasm"},
      {".txt", "text/plain; charset=utf-8"},
      {".glb", "model/gltf-binary"},
  }};
  for (const auto& [ext, type] : kTypes) {
    if (file_name.size() > ext.size() && file_name.ends_with(ext)) return type;
  }
  return "application/octet-stream";
}

bool web_file_is_hashed(std::string_view file_name) {
  auto last = file_name.rfind('.');
  if (last == std::string_view::npos || last == 0) return false;
  auto prev = file_name.rfind('.', last - 1);
  if (prev == std::string_view::npos) return false;
  std::string_view hash = file_name.substr(prev + 1, last - prev - 1);
  return hash.size() >= 8 && std::all_of(hash.begin(), hash.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-';
         });
}

void register_web_routes(Router& router, std::string web_root) {
  auto root = std::make_shared<const std::string>(std::move(web_root));
  router.add({.method = Method::get,
              .path = "/",
              .access = Access::anyone,
              .openapi = {.operation_id = "Dashboard_Index",
                          .summary = "The web dashboard (index.html of web_root).",
                          .tags = {"Dashboard"},
                          .fragment = std::string(kIndexDoc)}},
             sync_handler([root](const HttpRequest& req) {
               if (root->empty()) return not_built(*root);
               auto body = read_regular_file(fs::path(*root) / "index.html");
               if (!body) return not_built(*root);
               return file_response(req, std::move(*body), "index.html", "no-cache");
             }));
  router.add({.method = Method::get,
              .path = "/assets/{file}",
              .access = Access::anyone,
              .openapi = {.operation_id = "Dashboard_Asset",
                          .summary = "A file of the web dashboard (web_root/assets/FILE).",
                          .tags = {"Dashboard"},
                          .fragment = std::string(kAssetDoc)}},
             sync_handler([root](const HttpRequest& req) {
               std::string_view name = req.param("file");
               auto missing = [&] {
                 return error_response(404, "FileNotFound",
                                       fmt::format("The dashboard has no file assets/{}. Reload "
                                                   "the page: the dashboard may have been rebuilt.",
                                                   safe_name(name) ? name : "(invalid name)"));
               };
               if (root->empty() || !safe_name(name)) return missing();
               auto body = read_regular_file(fs::path(*root) / "assets" / std::string(name));
               if (!body) return missing();
               return file_response(req, std::move(*body), name,
                                    web_file_is_hashed(name) ? kImmutable : "no-cache");
             }));
}

}  // namespace castor::api
