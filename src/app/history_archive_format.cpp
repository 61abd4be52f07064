// The archive's text: NDJSON and CSV rows, the line-protocol form for re-import, file names
// by day and model, and the manifest. Pure string work; the files are history_archive.cpp's.
#include "app/history_archive.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>

#include "ingest/history_export.hpp"

namespace castor::app::archive {

namespace fs = std::filesystem;

namespace {

Status invalid(std::string m) {
  return Status(Code::invalid_argument, std::move(m));
}

bool needs_quotes(std::string_view f) {
  return f.find_first_of(",\"\r\n") != std::string_view::npos ||
         (!f.empty() && (f.front() == ' ' || f.back() == ' '));
}

void append_csv_field(std::string& out, std::string_view f) {
  if (!needs_quotes(f)) {
    out += f;
    return;
  }
  out.push_back('"');
  for (char c : f) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

// The value's canonical JSON text for its type, or an error saying what does not fit.
Result<std::string> value_text(std::string_view type, const json::value& v) {
  std::string out;
  if (type == "float64" && v.is_number()) {
    double d = 0;
    json::as_double(v, d);
    json::append_double(out, d);
  } else if (type == "int64" && (v.is_int64() || v.is_uint64())) {
    long long n = 0;
    if (!json::as_int64(v, n)) return invalid("an int64 value is out of range");
    out = std::to_string(n);
  } else if (type == "boolean" && v.is_bool()) {
    out = v.get_bool() ? "true" : "false";
  } else if (type == "string" && v.is_string()) {
    json::append_string(out, json::sv(v.get_string()));
  } else if (type == "json") {
    out = json::serialize(v);
  } else {
    return invalid("the value is not of type '" + std::string(type) +
                   "' (float64, int64, boolean, string or json)");
  }
  return out;
}

const json::value* member(const json::object& o, std::string_view name) {
  auto it = o.find(name);
  return it == o.end() ? nullptr : &it->value();
}

Result<std::string> string_member(const json::object& o, std::string_view name, bool required) {
  const json::value* v = member(o, name);
  if (!v) {
    if (!required) return std::string();
    return invalid("the row has no \"" + std::string(name) + "\"");
  }
  if (!v->is_string()) return invalid("\"" + std::string(name) + "\" must be a string");
  return std::string(json::sv(v->get_string()));
}

}  // namespace

std::string_view format_name(FileFormat f) noexcept {
  return f == FileFormat::csv ? "csv" : "ndjson";
}

Result<Row> parse_ndjson_row(std::string_view line) {
  json::value doc;
  json::ParseError e;
  if (!json::parse(line, doc, e) || !doc.is_object())
    return invalid("the row is not a JSON object");
  const json::object& o = doc.get_object();
  Row r;
  for (auto [field, required] : {std::pair{"twin", true},
                                 {"component", false},
                                 {"name", true},
                                 {"model", true},
                                 {"ts", false},
                                 {"type", true}}) {
    auto s = string_member(o, field, required);
    if (!s) return s.status();
    std::string_view f(field);
    std::string& slot = f == "twin"        ? r.twin
                        : f == "component" ? r.component
                        : f == "name"      ? r.name
                        : f == "model"     ? r.model
                        : f == "ts"        ? r.ts
                                           : r.type;
    slot = std::move(*s);
  }
  const json::value* ts = member(o, "ts_ns");
  long long n = 0;
  if (!ts || !json::as_int64(*ts, n)) return invalid("the row has no integer \"ts_ns\"");
  r.ts_ns = n;
  const json::value* v = member(o, "value");
  if (!v) return invalid("the row has no \"value\"");
  auto text = value_text(r.type, *v);
  if (!text) return text.status();
  r.value = std::move(*text);
  return r;
}

void append_ndjson_row(std::string& out, const Row& row) {
  ingest::append_export_row_head(out, row.twin, row.component, row.name, row.model, row.ts,
                                 row.ts_ns, row.type);
  out += row.value;
  out += "}\n";
}

void append_csv_row(std::string& out, const Row& row) {
  for (std::string_view f :
       {std::string_view(row.twin), std::string_view(row.component), std::string_view(row.name),
        std::string_view(row.model), std::string_view(row.ts)}) {
    append_csv_field(out, f);
    out.push_back(',');
  }
  out += std::to_string(row.ts_ns);
  out.push_back(',');
  out += row.type;
  out.push_back(',');
  if (row.type == "string") {  // the text itself, not its JSON quoting
    json::value v;
    json::ParseError e;
    if (json::parse(row.value, v, e) && v.is_string())
      append_csv_field(out, json::sv(v.get_string()));
  } else {
    append_csv_field(out, row.value);
  }
  out.push_back('\n');
}

Result<CsvRecords> split_csv(std::string_view text, bool final) {
  CsvRecords out;
  std::size_t i = 0, start = 0;
  std::vector<std::string> rec;
  std::string field;
  while (i < text.size()) {
    start = i;
    rec.clear();
    bool complete = false;
    while (true) {
      field.clear();
      if (i < text.size() && text[i] == '"') {
        ++i;
        bool closed = false;
        while (i < text.size()) {
          if (text[i] == '"') {
            if (i + 1 < text.size() && text[i + 1] == '"') {
              field.push_back('"');
              i += 2;
              continue;
            }
            if (i + 1 == text.size() && !final) break;  // might be a doubled quote: wait
            ++i;
            closed = true;
            break;
          }
          field.push_back(text[i++]);
        }
        if (!closed) {
          if (final) return invalid("a quoted CSV field is not closed");
          out.consumed = start;
          return out;
        }
        if (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r')
          return invalid("a quoted CSV field is followed by text: quote the whole field");
      } else {
        while (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
          if (text[i] == '"') return invalid("a '\"' inside an unquoted CSV field");
          field.push_back(text[i++]);
        }
      }
      rec.push_back(field);
      if (i < text.size() && text[i] == ',') {
        ++i;
        continue;
      }
      if (i < text.size() && text[i] == '\r') ++i;
      if (i < text.size() && text[i] == '\n') {
        ++i;
        complete = true;
      } else if (i >= text.size()) {
        complete = final;
      }
      break;
    }
    if (!complete) {
      out.consumed = start;
      return out;
    }
    out.records.push_back(rec);
  }
  out.consumed = text.size();
  return out;
}

Result<Row> row_from_csv(const std::vector<std::string>& f) {
  if (f.size() != 8)
    return invalid("a CSV record has " + std::to_string(f.size()) +
                   " fields; expected 8: " + std::string(kCsvHeader));
  Row r;
  r.twin = f[0];
  r.component = f[1];
  r.name = f[2];
  r.model = f[3];
  r.ts = f[4];
  auto res = std::from_chars(f[5].data(), f[5].data() + f[5].size(), r.ts_ns);
  if (res.ec != std::errc() || res.ptr != f[5].data() + f[5].size())
    return invalid("ts_ns '" + f[5] + "' is not an integer");
  r.type = f[6];
  json::value v;
  if (r.type == "string") {
    v = boost::json::string(f[7]);
  } else {
    json::ParseError e;
    if (!json::parse(f[7], v, e)) return invalid("value '" + f[7] + "' is not valid for its type");
  }
  auto text = value_text(r.type, v);
  if (!text) return text.status();
  r.value = std::move(*text);
  if (r.twin.empty() || r.name.empty()) return invalid("a CSV record needs a twin and a name");
  return r;
}

void append_ingest_line(std::string& out, const Row& row) {
  out += "{\"twin\":";
  json::append_string(out, row.twin);
  if (!row.component.empty()) {
    out += ",\"component\":";
    json::append_string(out, row.component);
  }
  out += ",\"name\":";
  json::append_string(out, row.name);
  out += ",\"ts\":" + std::to_string(row.ts_ns) + ",\"value\":" + row.value + "}\n";
}

std::string utc_day(std::int64_t ts_ns) {
  std::int64_t secs = ts_ns / 1'000'000'000;
  if (ts_ns % 1'000'000'000 < 0) --secs;
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

std::string file_safe(std::string_view model) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : model) {
    if (c == ':') {
      out.push_back('.');
    } else if (c == ';') {
      out.push_back('@');
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(digits[c >> 4]);
      out.push_back(digits[c & 15]);
    }
  }
  return out.empty() ? std::string("%00") : out;
}

// ---- manifest ----

std::string manifest_json(const Manifest& m) {
  json::array files;
  for (const auto& f : m.files)
    files.push_back(json::object{{"path", f.path},
                                 {"model", f.model},
                                 {"day", f.day},
                                 {"format", format_name(f.format)},
                                 {"compression", f.zstd ? "zstd" : "none"},
                                 {"rows", f.rows},
                                 {"series", f.series},
                                 {"bytes", f.bytes},
                                 {"sha256", f.sha256}});
  json::object doc{{"format", kManifestFormat},
                   {"version", kManifestVersion},
                   {"from", m.from},
                   {"to", m.to},
                   {"created", m.created},
                   {"source", m.source},
                   {"model", m.model},
                   {"twin", m.twin},
                   {"files", std::move(files)}};
  return json::serialize(doc) + "\n";
}

Result<Manifest> parse_manifest(std::string_view text) {
  json::value doc;
  json::ParseError e;
  if (!json::parse(text, doc, e) || !doc.is_object())
    return invalid("manifest.json is not a JSON object");
  const json::object& o = doc.get_object();
  auto fmt = string_member(o, "format", true);
  if (!fmt || *fmt != kManifestFormat)
    return invalid("manifest.json is not a castor history export (format must be \"" +
                   std::string(kManifestFormat) + "\")");
  const json::value* version = member(o, "version");
  long long n = 0;
  if (!version || !json::as_int64(*version, n) || n != kManifestVersion)
    return invalid("manifest.json has version " +
                   (version ? json::serialize(*version) : std::string("(none)")) +
                   "; this castor reads version " + std::to_string(kManifestVersion));
  Manifest m;
  long long from = 0, to = 0;
  if (!member(o, "from") || !json::as_int64(*member(o, "from"), from) || !member(o, "to") ||
      !json::as_int64(*member(o, "to"), to))
    return invalid("manifest.json needs integer \"from\" and \"to\" (ns)");
  m.from = from;
  m.to = to;
  for (auto [name, slot] : {std::pair{"created", &m.created},
                            {"source", &m.source},
                            {"model", &m.model},
                            {"twin", &m.twin}}) {
    auto s = string_member(o, name, false);
    if (!s) return invalid("manifest.json: " + s.status().message());
    *slot = std::move(*s);
  }
  const json::value* files = member(o, "files");
  if (!files || !files->is_array()) return invalid("manifest.json has no \"files\" array");
  for (const json::value& item : files->get_array()) {
    if (!item.is_object()) return invalid("manifest.json: an entry of \"files\" is not an object");
    const json::object& fo = item.get_object();
    FileEntry f;
    for (auto [name, slot] : {std::pair{"path", &f.path},
                              {"model", &f.model},
                              {"day", &f.day},
                              {"sha256", &f.sha256}}) {
      auto s = string_member(fo, name, true);
      if (!s) return invalid("manifest.json, a file entry: " + s.status().message());
      *slot = std::move(*s);
    }
    auto format = string_member(fo, "format", true);
    auto compression = string_member(fo, "compression", true);
    if (!format || (*format != "csv" && *format != "ndjson"))
      return invalid("manifest.json, " + f.path + ": format must be csv or ndjson");
    if (!compression || (*compression != "none" && *compression != "zstd"))
      return invalid("manifest.json, " + f.path + ": compression must be none or zstd");
    f.format = *format == "csv" ? FileFormat::csv : FileFormat::ndjson;
    f.zstd = *compression == "zstd";
    for (auto [name, slot] :
         {std::pair{"rows", &f.rows}, {"series", &f.series}, {"bytes", &f.bytes}}) {
      long long v = 0;
      if (!member(fo, name) || !json::as_int64(*member(fo, name), v) || v < 0)
        return invalid("manifest.json, " + f.path + ": \"" + name + "\" must be a count");
      *slot = static_cast<std::uint64_t>(v);
    }
    fs::path p(f.path);
    if (p.is_absolute() || f.path.find("..") != std::string::npos)
      return invalid("manifest.json names a file outside the export folder: " + f.path);
    m.files.push_back(std::move(f));
  }
  return m;
}

}  // namespace castor::app::archive
