// ImportReader: splits an ADT import file (NDJSON) into its sections — a Header, then optional
// Models, Twins and Relationships, in that order — and hands out their lines in blocks, reading
// the file in large pieces. It checks the file's structure (section markers, order, the header)
// but never parses entities; a structural error stops the whole job, a bad entity line does not.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"

namespace castor::twin::jobs {

enum class Section : std::uint8_t { header, models, twins, relationships };
std::string_view section_name(Section s);  // "Header", "Models", ...

// Bytes readable after every line's end, as simdjson needs (SIMDJSON_PADDING).
constexpr std::size_t kLinePadding = 64;

struct Line {
  std::uint64_t number = 0;  // 1-based line number in the file
  std::string_view text;     // without the line break; kLinePadding readable bytes follow it
};

// Consecutive lines of one section. The lines point into `buffer`, which the block keeps alive.
struct Block {
  Section section = Section::models;
  std::shared_ptr<const std::string> buffer;
  std::vector<Line> lines;
};

struct FileHeader {
  std::string file_version;  // "1.0.0", the only version ADT defines
  std::string author, organization;
};

struct ReaderOptions {
  // Default 16 MiB: bytes read from the file at a time. A single line may be longer (up to
  // max_line_bytes); larger pieces mean fewer reads, more memory.
  std::size_t read_bytes = std::size_t{16} << 20;
  // Default 64 MiB: the longest line accepted (a model); longer lines stop the job.
  std::size_t max_line_bytes = std::size_t{64} << 20;
  // Default 4096: most lines per block (what one worker parses and the engine imports at once).
  std::size_t block_lines = 4096;
};

class ImportReader {
 public:
  // Opens `file` and reads its Header section. Errors say what is wrong with the file.
  static Result<std::unique_ptr<ImportReader>> open(const std::filesystem::path& file,
                                                    ReaderOptions options = {});
  ~ImportReader();
  ImportReader(const ImportReader&) = delete;
  ImportReader& operator=(const ImportReader&) = delete;

  const FileHeader& header() const noexcept { return header_; }
  // The next block, std::nullopt at the end of the file, or an error for a malformed file.
  Result<std::optional<Block>> next();
  std::uint64_t bytes_read() const noexcept { return consumed_; }
  std::uint64_t file_size() const noexcept { return size_; }

 private:
  ImportReader(int fd, std::uint64_t size, ReaderOptions options);
  Status read_header();
  enum class Got : unsigned char { line, end, needs_refill };
  // The next non-empty line. Without `may_refill`, stops (needs_refill) where a read would
  // replace the buffer that earlier lines of the block point into.
  Result<Got> next_line(Line& line, bool may_refill);
  Status refill();
  Result<std::optional<Section>> section_marker(const Line& line) const;

  int fd_ = -1;
  std::uint64_t size_ = 0;
  ReaderOptions options_;
  std::shared_ptr<std::string> buffer_;  // data followed by kLinePadding bytes
  std::size_t begin_ = 0, end_ = 0;      // unread bytes of buffer_
  bool eof_ = false;
  bool started_ = false;  // the first piece was read (a byte-order mark is skipped there)
  std::uint64_t line_number_ = 0;
  std::uint64_t consumed_ = 0;
  std::optional<Section> section_;  // of the lines being read
  std::optional<Line> held_;        // a line read ahead (it starts a new block)
  FileHeader header_;
};

}  // namespace castor::twin::jobs
