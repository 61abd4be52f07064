#include "twin/jobs/import_paths.hpp"

#include <cctype>
#include <string>
#include <system_error>

namespace castor::twin::jobs {
namespace {

namespace fs = std::filesystem;

Status refuse(std::string_view field, std::string what, const fs::path& folder) {
  return {Code::invalid_argument,
          std::string(field) + " " + what +
              "; give file://NAME (or a plain path) of a file inside the import folder " +
              folder.string(),
          "ValidationFailed"};
}

// The scheme of `uri` ("" when it has none), lower-cased.
std::string scheme_of(std::string_view uri) {
  std::size_t colon = uri.find(':');
  if (colon == std::string_view::npos || colon == 0 ||
      !std::isalpha(static_cast<unsigned char>(uri[0])))
    return "";
  std::string scheme;
  for (char c : uri.substr(0, colon)) {
    auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && c != '+' && c != '-' && c != '.') return "";
    scheme.push_back(static_cast<char>(std::tolower(u)));
  }
  return scheme;
}

bool percent_decode(std::string_view in, std::string& out) {
  auto hex = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size() || hex(in[i + 1]) < 0 || hex(in[i + 2]) < 0) return false;
    out.push_back(static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2])));
    i += 2;
  }
  return true;
}

// The path part of a file: URI or plain path, decoded; "" with `error` set when malformed.
std::string path_text(std::string_view uri, std::string_view field, const fs::path& folder,
                      Status& error) {
  std::string scheme = scheme_of(uri);
  if (!scheme.empty() && scheme != "file") {
    error = refuse(field,
                   "uses the scheme '" + scheme +
                       ":'; Castor reads and writes import files only in its import folder",
                   folder);
    return {};
  }
  std::string_view rest = uri;
  if (scheme == "file") {
    rest.remove_prefix(5);
    if (rest.starts_with("//")) rest.remove_prefix(2);  // file://relative/x or file:///abs/x
    if (rest.starts_with("localhost/")) rest.remove_prefix(9);
    if (rest.find_first_of("?#") != std::string_view::npos) {
      error = refuse(field, "has a query or fragment", folder);
      return {};
    }
  }
  std::string decoded;
  if (!percent_decode(rest, decoded)) {
    error = refuse(field, "has a malformed %-escape", folder);
    return {};
  }
  if (decoded.empty() || decoded.find('\0') != std::string::npos) {
    error = refuse(field, decoded.empty() ? "names no file" : "contains a NUL byte", folder);
    return {};
  }
  for (const auto& part : fs::path(decoded))
    if (part == "..") {
      error = refuse(field, "contains '..'", folder);
      return {};
    }
  return decoded;
}

bool inside(const fs::path& p, const fs::path& folder) {
  fs::path rel = p.lexically_relative(folder);
  return !rel.empty() && rel != "." && *rel.begin() != "..";
}

}  // namespace

Result<fs::path> prepare_import_folder(const fs::path& folder) {
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec)
    return Status(Code::unavailable, "cannot create the import folder " + folder.string() + ": " +
                                         ec.message() + "; fix its permissions or set import_dir");
  fs::path canonical = fs::canonical(folder, ec);
  if (ec)
    return Status(Code::unavailable,
                  "cannot resolve the import folder " + folder.string() + ": " + ec.message());
  return canonical;
}

Result<fs::path> resolve_import_uri(std::string_view uri, std::string_view field,
                                    const fs::path& folder, PathUse use) {
  Status error;
  std::string text = path_text(uri, field, folder, error);
  if (!error.is_ok()) return error;
  fs::path p(text);
  if (p.is_relative()) p = folder / p;
  std::error_code ec;
  if (use == PathUse::input) {
    fs::path real = fs::canonical(p, ec);  // resolves every symlink; fails when missing
    if (ec)
      return refuse(
          field,
          "names " + p.string() + ", which does not exist or cannot be read (" + ec.message() + ")",
          folder);
    if (!inside(real, folder))
      return refuse(field, "resolves to " + real.string() + ", outside the import folder", folder);
    if (!fs::is_regular_file(real, ec))
      return refuse(field, "names " + real.string() + ", which is not a regular file", folder);
    return real;
  }
  fs::path parent = fs::canonical(p.parent_path(), ec);
  if (ec)
    return refuse(field,
                  "names a file in " + p.parent_path().string() +
                      ", which does not exist; create that folder first",
                  folder);
  fs::path real = parent / p.filename();
  std::error_code link_ec;
  if (fs::is_symlink(fs::symlink_status(real, link_ec))) {
    real = fs::canonical(real, link_ec);  // fails for a dangling link: refused below
    if (link_ec) return refuse(field, "is a symbolic link to nowhere", folder);
  }
  if (!inside(real, folder)) return refuse(field, "resolves outside the import folder", folder);
  if (fs::is_directory(real, link_ec))
    return refuse(field, "names the folder " + real.string() + ", not a file", folder);
  return real;
}

}  // namespace castor::twin::jobs
