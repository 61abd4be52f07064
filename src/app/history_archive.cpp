#include "app/history_archive.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <tuple>

#include "ingest/history_export.hpp"

namespace castor::app::archive {

namespace fs = std::filesystem;

namespace {

Status invalid(std::string m) {
  return Status(Code::invalid_argument, std::move(m));
}

std::string hex(const unsigned char* p, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(digits[p[i] >> 4]);
    out.push_back(digits[p[i] & 15]);
  }
  return out;
}

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* p, std::size_t n) { EVP_DigestUpdate(ctx_, p, n); }
  std::string hex_digest() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_, md, &n);
    return hex(md, n);
  }

 private:
  EVP_MD_CTX* ctx_;
};

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

// ---- writing ----

Status write_atomically(const fs::path& path, std::string_view text) {
  fs::path tmp = path;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return Status(Code::internal, "cannot write " + tmp.string() + ": " + strerror(errno));
  std::size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return Status(Code::internal, "cannot write " + tmp.string() + ": " + strerror(err));
    }
    off += static_cast<std::size_t>(n);
  }
  bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) return Status(Code::internal, "cannot sync " + tmp.string());
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return Status(Code::internal, "cannot rename " + tmp.string() + ": " + ec.message());
  return Status::ok();
}

ArchiveWriter::ArchiveWriter(fs::path dir, std::vector<FileFormat> formats, bool zstd)
    : dir_(std::move(dir)), formats_(std::move(formats)), zstd_(zstd) {}

Status ArchiveWriter::add(const Row& row) {
  key_ = row.twin;
  key_.push_back('\0');
  key_ += row.component;
  key_.push_back('\0');
  key_ += row.name;
  // Rows come series by series in time order: most rows go to the files of the row before.
  std::int64_t day_index = row.ts_ns / kNanosPerDay - (row.ts_ns % kNanosPerDay < 0 ? 1 : 0);
  if (day_index != last_day_ || row.model != last_model_ || last_files_.empty()) {
    CASTOR_RETURN_IF_ERROR(open_files(row));
    last_day_ = day_index;
    last_model_ = row.model;
  }
  for (Open* f : last_files_) CASTOR_RETURN_IF_ERROR(append(*f, row));
  return Status::ok();
}

Status ArchiveWriter::open_files(const Row& row) {
  std::string day = utc_day(row.ts_ns);
  last_files_.clear();
  for (FileFormat format : formats_) {
    std::string rel = day + "/" + file_safe(row.model) + "." + std::string(format_name(format));
    if (zstd_) rel += ".zst";
    auto& slot = open_[rel];
    if (!slot) {
      slot = std::make_unique<Open>();
      slot->entry.path = rel;
      slot->entry.model = row.model;
      slot->entry.day = day;
      slot->entry.format = format;
      slot->entry.zstd = zstd_;
      slot->tmp = dir_ / (rel + ".tmp");
      std::error_code ec;
      fs::create_directories(slot->tmp.parent_path(), ec);
      if (ec)
        return Status(Code::internal,
                      "cannot create " + slot->tmp.parent_path().string() + ": " + ec.message());
      std::ofstream truncate(slot->tmp, std::ios::binary | std::ios::trunc);
      if (!truncate) return Status(Code::internal, "cannot write " + slot->tmp.string());
      if (format == FileFormat::csv) slot->buffer = std::string(kCsvHeader) + "\n";
    }
    last_files_.push_back(slot.get());
  }
  return Status::ok();
}

Status ArchiveWriter::append(Open& f, const Row& row) {
  if (f.entry.format == FileFormat::csv)
    append_csv_row(f.buffer, row);
  else
    append_ndjson_row(f.buffer, row);
  ++f.entry.rows;
  if (f.last_series != key_) {  // rows come series by series: a new run is a new series
    ++f.entry.series;
    f.last_series = key_;
  }
  if (f.buffer.size() >= (64u << 10)) return flush(f);
  return Status::ok();
}

Status ArchiveWriter::flush(Open& f) {
  if (f.buffer.empty()) return Status::ok();
  std::ofstream out(f.tmp, std::ios::binary | std::ios::app);
  out.write(f.buffer.data(), static_cast<std::streamsize>(f.buffer.size()));
  if (!out) return Status(Code::internal, "cannot write " + f.tmp.string() + " (disk full?)");
  f.buffer.clear();
  return Status::ok();
}

// Compresses the .tmp (when zstd), hashes what is stored and renames it into place.
Status ArchiveWriter::seal(Open& f) {
  CASTOR_RETURN_IF_ERROR(flush(f));
  fs::path final_path = dir_ / f.entry.path;
  fs::path source = f.tmp;
  if (zstd_) {
    fs::path packed = f.tmp;
    packed += ".zst";
    std::ifstream in(source, std::ios::binary);
    std::ofstream out(packed, std::ios::binary | std::ios::trunc);
    if (!in || !out) return Status(Code::internal, "cannot compress " + source.string());
    ZSTD_CCtx* cctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 3);
    std::vector<char> ibuf(ZSTD_CStreamInSize()), obuf(ZSTD_CStreamOutSize());
    bool failed = false;
    while (!failed) {
      in.read(ibuf.data(), static_cast<std::streamsize>(ibuf.size()));
      std::size_t got = static_cast<std::size_t>(in.gcount());
      bool last = got < ibuf.size();
      ZSTD_inBuffer input{ibuf.data(), got, 0};
      bool done = false;
      while (!done) {
        ZSTD_outBuffer output{obuf.data(), obuf.size(), 0};
        std::size_t left =
            ZSTD_compressStream2(cctx, &output, &input, last ? ZSTD_e_end : ZSTD_e_continue);
        if (ZSTD_isError(left)) {
          failed = true;
          break;
        }
        out.write(obuf.data(), static_cast<std::streamsize>(output.pos));
        done = last ? left == 0 : input.pos == input.size;
      }
      if (last) break;
    }
    ZSTD_freeCCtx(cctx);
    out.close();
    if (failed || !out) return Status(Code::internal, "cannot compress " + source.string());
    std::error_code ec;
    fs::remove(source, ec);
    source = packed;
    f.tmp = packed;
  }
  {
    std::ifstream in(source, std::ios::binary);
    Sha256 sha;
    std::vector<char> buf(1 << 16);
    std::uint64_t bytes = 0;
    while (in) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      sha.update(buf.data(), static_cast<std::size_t>(in.gcount()));
      bytes += static_cast<std::uint64_t>(in.gcount());
    }
    f.entry.sha256 = sha.hex_digest();
    f.entry.bytes = bytes;
  }
  int fd = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  std::error_code ec;
  fs::rename(source, final_path, ec);
  if (ec) return Status(Code::internal, "cannot rename " + source.string() + ": " + ec.message());
  return Status::ok();
}

Result<std::vector<FileEntry>> ArchiveWriter::finish() {
  std::vector<FileEntry> out;
  for (auto& [rel, f] : open_) {
    Status s = seal(*f);
    if (!s.is_ok()) {
      abandon();
      return s;
    }
    out.push_back(f->entry);
  }
  std::sort(out.begin(), out.end(), [](const FileEntry& a, const FileEntry& b) {
    return std::tie(a.day, a.model, a.path) < std::tie(b.day, b.model, b.path);
  });
  open_.clear();
  last_files_.clear();
  return out;
}

void ArchiveWriter::abandon() {
  std::error_code ec;
  for (auto& [rel, f] : open_) {
    fs::remove(f->tmp, ec);
    fs::path raw = dir_ / (rel + ".tmp");
    fs::remove(raw, ec);
  }
  open_.clear();
  last_files_.clear();
}

// ---- reading ----

struct ArchiveReader::State {
  std::ifstream in;
  bool zstd = false;
  ZSTD_DCtx* dctx = nullptr;
  std::vector<char> ibuf, obuf;
  ZSTD_inBuffer input{nullptr, 0, 0};
  bool eof = false;
  std::size_t last_frame_left = 0;
  Sha256 sha;
};

Result<std::unique_ptr<ArchiveReader>> ArchiveReader::open(const fs::path& path, bool zstd) {
  std::unique_ptr<ArchiveReader> r(new ArchiveReader());
  r->state_ = std::make_unique<State>();
  r->state_->in.open(path, std::ios::binary);
  if (!r->state_->in) return Status(Code::not_found, path.string() + " is missing or unreadable");
  r->state_->zstd = zstd;
  if (zstd) {
    r->state_->dctx = ZSTD_createDCtx();
    r->state_->ibuf.resize(ZSTD_DStreamInSize());
    r->state_->obuf.resize(ZSTD_DStreamOutSize());
  } else {
    r->state_->ibuf.resize(1 << 16);
  }
  return r;
}

ArchiveReader::~ArchiveReader() {
  if (state_ && state_->dctx) ZSTD_freeDCtx(state_->dctx);
}

Result<bool> ArchiveReader::read(std::string& out) {
  State& s = *state_;
  while (true) {
    if (s.input.pos == s.input.size) {
      if (s.eof) {
        if (s.zstd && s.last_frame_left != 0)
          return invalid("the zstd stream ends in the middle of a frame (truncated file)");
        return false;
      }
      s.in.read(s.ibuf.data(), static_cast<std::streamsize>(s.ibuf.size()));
      std::size_t got = static_cast<std::size_t>(s.in.gcount());
      if (got == 0) {
        s.eof = true;
        continue;
      }
      s.sha.update(s.ibuf.data(), got);
      bytes_ += got;
      s.input = ZSTD_inBuffer{s.ibuf.data(), got, 0};
      if (!s.zstd) {
        out.append(s.ibuf.data(), got);
        s.input.pos = got;
        return true;
      }
    }
    ZSTD_outBuffer output{s.obuf.data(), s.obuf.size(), 0};
    std::size_t left = ZSTD_decompressStream(s.dctx, &output, &s.input);
    if (ZSTD_isError(left))
      return invalid(std::string("the file is not valid zstd: ") + ZSTD_getErrorName(left));
    s.last_frame_left = left;
    out.append(s.obuf.data(), output.pos);
    if (output.pos > 0) return true;
  }
}

std::string ArchiveReader::sha256() {
  return state_->sha.hex_digest();
}

Status for_each_row(const fs::path& dir, const FileEntry& e,
                    const std::function<Status(const Row&)>& fn) {
  fs::path path = dir / e.path;
  auto reader = ArchiveReader::open(path, e.zstd);
  if (!reader) return reader.status();
  std::string buf;
  std::uint64_t line = 0;
  bool header = e.format == FileFormat::csv;
  auto where = [&] { return e.path + " line " + std::to_string(line) + ": "; };
  bool more = true;
  while (more) {
    auto r = (*reader)->read(buf);
    if (!r) return invalid(e.path + ": " + r.status().message());
    more = *r;
    std::size_t consumed = 0;
    if (e.format == FileFormat::ndjson) {
      while (true) {
        std::size_t nl = buf.find('\n', consumed);
        if (nl == std::string::npos) {
          if (more || consumed == buf.size()) break;
          nl = buf.size();  // a last line without newline
        }
        ++line;
        std::string_view text(buf.data() + consumed, nl - consumed);
        consumed = std::min(nl + 1, buf.size());
        if (text.empty()) continue;
        auto row = parse_ndjson_row(text);
        if (!row) return invalid(where() + row.status().message());
        CASTOR_RETURN_IF_ERROR(fn(*row));
      }
    } else {
      auto recs = split_csv(buf, !more);
      if (!recs)
        return invalid(e.path + " after line " + std::to_string(line) + ": " +
                       recs.status().message());
      consumed = recs->consumed;
      for (const auto& rec : recs->records) {
        ++line;
        if (header) {
          header = false;
          std::string joined;
          for (std::size_t i = 0; i < rec.size(); ++i) joined += (i ? "," : "") + rec[i];
          if (joined != kCsvHeader)
            return invalid(e.path + ": the first line must be the header " +
                           std::string(kCsvHeader));
          continue;
        }
        auto row = row_from_csv(rec);
        if (!row) return invalid(where() + row.status().message());
        CASTOR_RETURN_IF_ERROR(fn(*row));
      }
    }
    buf.erase(0, consumed);
  }
  return Status::ok();
}

Result<std::uint64_t> verify_file(const fs::path& dir, const FileEntry& e) {
  fs::path path = dir / e.path;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    return Status(Code::not_found, e.path + " is listed in manifest.json but missing");
  auto size = fs::file_size(path, ec);
  if (ec || size != e.bytes)
    return invalid(e.path + " has " + std::to_string(size) + " bytes; manifest.json says " +
                   std::to_string(e.bytes) + " (changed or truncated)");
  {
    auto reader = ArchiveReader::open(path, false);  // the stored bytes, as hashed
    if (!reader) return reader.status();
    std::string sink;
    while (true) {
      auto r = (*reader)->read(sink);
      if (!r) return r.status();
      sink.clear();
      if (!*r) break;
    }
    std::string sha = (*reader)->sha256();
    if (sha != e.sha256)
      return invalid(e.path + " has SHA-256 " + sha + "; manifest.json says " + e.sha256 +
                     " (the file was changed or damaged)");
  }
  std::uint64_t rows = 0;
  Status s = for_each_row(dir, e, [&rows](const Row&) {
    ++rows;
    return Status::ok();
  });
  if (!s.is_ok()) return s;
  if (rows != e.rows)
    return invalid(e.path + " holds " + std::to_string(rows) + " rows; manifest.json says " +
                   std::to_string(e.rows));
  return rows;
}

}  // namespace castor::app::archive
