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

}  // namespace

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
