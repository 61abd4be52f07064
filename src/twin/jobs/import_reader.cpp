#include "twin/jobs/import_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/json.hpp"
#include "common/strings.hpp"

namespace castor::twin::jobs {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

Status bad_file(std::uint64_t line, std::string what) {
  return {Code::invalid_argument, "line " + std::to_string(line) + ": " + std::move(what),
          "InvalidImportFile"};
}

}  // namespace

std::string_view section_name(Section s) {
  switch (s) {
    case Section::header: return "Header";
    case Section::models: return "Models";
    case Section::twins: return "Twins";
    case Section::relationships: return "Relationships";
  }
  return "?";
}

ImportReader::ImportReader(int fd, std::uint64_t size, ReaderOptions options)
    : fd_(fd), size_(size), options_(options), buffer_(std::make_shared<std::string>()) {}

ImportReader::~ImportReader() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::unique_ptr<ImportReader>> ImportReader::open(const std::filesystem::path& file,
                                                         ReaderOptions options) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return Status(Code::invalid_argument,
                  "cannot open " + file.string() + ": " + std::strerror(errno),
                  "InvalidImportFile");
  struct stat st {};
  ::fstat(fd, &st);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  std::unique_ptr<ImportReader> r(
      new ImportReader(fd, static_cast<std::uint64_t>(st.st_size), options));
  CASTOR_RETURN_IF_ERROR(r->read_header());
  return r;
}

// Moves the unread bytes into a fresh buffer (blocks still use the old one) and reads more.
Status ImportReader::refill() {
  std::size_t leftover = end_ - begin_;
  if (leftover > options_.max_line_bytes)
    return bad_file(line_number_ + 1, "the line is longer than " +
                                          std::to_string(options_.max_line_bytes) +
                                          " bytes; split the file's entities into one line each");
  std::size_t capacity = std::max(options_.read_bytes, leftover * 2);
  auto fresh = std::make_shared<std::string>(capacity + kLinePadding, '\0');
  std::memcpy(fresh->data(), buffer_->data() + begin_, leftover);
  std::size_t filled = leftover;
  while (filled < capacity) {
    ssize_t n = ::read(fd_, fresh->data() + filled, capacity - filled);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      return Status(Code::unavailable,
                    std::string("reading the import file failed: ") + std::strerror(errno));
    if (n == 0) {
      eof_ = true;
      break;
    }
    filled += static_cast<std::size_t>(n);
  }
  buffer_ = std::move(fresh);
  begin_ = 0;
  end_ = filled;
  if (!started_ && std::string_view(buffer_->data(), end_).starts_with(kBom)) {
    begin_ = kBom.size();
    consumed_ += kBom.size();
  }
  started_ = true;
  return Status::ok();
}

Result<ImportReader::Got> ImportReader::next_line(Line& line, bool may_refill) {
  while (true) {
    const char* base = buffer_->data();
    const void* nl = begin_ < end_ ? std::memchr(base + begin_, '\n', end_ - begin_) : nullptr;
    if (!nl && !eof_) {
      if (!may_refill) return Got::needs_refill;
      CASTOR_RETURN_IF_ERROR(refill());
      continue;
    }
    if (!nl && begin_ >= end_) return Got::end;
    std::size_t stop = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - base) : end_;
    std::string_view text(base + begin_, stop - begin_);
    consumed_ += stop - begin_ + (nl ? 1 : 0);
    begin_ = nl ? stop + 1 : end_;
    ++line_number_;
    while (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (trim(text).empty()) continue;
    line = {line_number_, text};
    return Got::line;
  }
}

// The section a marker line {"Section": "..."} opens, or nullopt for an ordinary line.
Result<std::optional<Section>> ImportReader::section_marker(const Line& line) const {
  std::string_view t = trim(line.text);
  if (t.empty() || t.front() != '{') return std::optional<Section>();
  std::string_view after = trim(t.substr(1));
  if (!after.starts_with("\"Section\"")) return std::optional<Section>();
  auto v = json::parse(t);
  const json::object* o = v ? v->if_object() : nullptr;
  const json::value* name = o && o->size() == 1 ? o->if_contains("Section") : nullptr;
  if (!name || !name->is_string())
    return bad_file(
        line.number,
        "a section marker must be {\"Section\": \"Header|Models|Twins|Relationships\"}");
  for (Section s : {Section::header, Section::models, Section::twins, Section::relationships})
    if (equals_ignoring_case(json::sv(name->get_string()), section_name(s)))
      return std::optional<Section>(s);
  return bad_file(line.number, "unknown section \"" + std::string(json::sv(name->get_string())) +
                                   "\"; the sections are Header, Models, Twins and Relationships");
}

Status ImportReader::read_header() {
  Line line;
  auto got = next_line(line, true);
  if (!got) return got.status();
  bool have = *got == Got::line;
  auto marker =
      have ? section_marker(line) : Result<std::optional<Section>>(std::optional<Section>());
  if (!marker) return marker.status();
  if (!have || *marker != Section::header)
    return bad_file(have ? line.number : 1, "an import file starts with {\"Section\": \"Header\"}");
  got = next_line(line, true);
  if (!got) return got.status();
  have = *got == Got::line;
  auto v = have ? json::parse(line.text)
                : Result<json::value>(Status(Code::invalid_argument, "missing"));
  const json::object* o = v ? v->if_object() : nullptr;
  const json::value* version = o ? o->if_contains("fileVersion") : nullptr;
  if (!version || !version->is_string())
    return bad_file(
        have ? line.number : line_number_,
        "the Header section holds one line like {\"fileVersion\": \"1.0.0\", \"author\": \"...\", "
        "\"organization\": \"...\"}");
  header_.file_version = std::string(json::sv(version->get_string()));
  if (header_.file_version != "1.0.0")
    return bad_file(line.number,
                    "fileVersion \"" + header_.file_version + "\" is not supported; use \"1.0.0\"");
  for (auto [key, out] :
       {std::pair{"author", &header_.author}, std::pair{"organization", &header_.organization}})
    if (const json::value* s = o->if_contains(key); s && s->is_string())
      *out = std::string(json::sv(s->get_string()));
  section_ = Section::header;
  return Status::ok();
}

Result<std::optional<Block>> ImportReader::next() {
  Block block;
  while (block.lines.size() < options_.block_lines) {
    Line line;
    if (held_) {
      line = *held_;
      held_.reset();
    } else {
      // A block's lines share one buffer: when the next line needs a new one, end the block.
      auto got = next_line(line, block.lines.empty());
      if (!got) return got.status();
      if (*got != Got::line) break;
    }
    auto marker = section_marker(line);
    if (!marker) return marker.status();
    if (*marker) {
      if (!block.lines.empty()) {
        held_ = line;  // close this block first
        break;
      }
      if (section_ && **marker <= *section_)
        return bad_file(line.number,
                        "section " + std::string(section_name(**marker)) + " after " +
                            std::string(section_name(*section_)) +
                            "; the sections come once each, in the order Header, Models, Twins, "
                            "Relationships");
      section_ = *marker;
      continue;
    }
    if (section_ == Section::header)
      return bad_file(line.number,
                      "the Header section holds one line; start the next section with "
                      "{\"Section\": \"Models\"} (or Twins, or Relationships)");
    if (block.lines.empty()) {
      block.section = *section_;
      block.buffer = buffer_;
    }
    block.lines.push_back(line);
  }
  if (block.lines.empty()) return std::optional<Block>();
  return std::optional<Block>(std::move(block));
}

}  // namespace castor::twin::jobs
