// The files of `castor export history` / `castor import history`: rows partitioned by UTC day and
// model into DIR/<YYYY-MM-DD>/<model>.{csv,ndjson}[.zst], written to .tmp and renamed when
// complete, and DIR/manifest.json (written last) with each file's rows, series, bytes and
// SHA-256. Files and bytes only: never talks to a server and never guesses at a damaged file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.hpp"
#include "common/status.hpp"

namespace castor::app::archive {

inline constexpr std::string_view kManifestFormat = "castor-history-export";
inline constexpr int kManifestVersion = 1;
inline constexpr std::string_view kCsvHeader = "twin,component,name,model,ts,ts_ns,type,value";

enum class FileFormat { csv, ndjson };
std::string_view format_name(FileFormat f) noexcept;  // "csv", "ndjson"

// One exported point, as the export endpoint's NDJSON row carries it. `value` is the JSON text of
// the value (a number, true/false, a quoted string, or a JSON document for type "json").
struct Row {
  std::string twin, component, name, model, ts;
  std::int64_t ts_ns = 0;
  std::string type;
  std::string value;
};

// Parses one NDJSON export row (as the server and our .ndjson files hold it).
Result<Row> parse_ndjson_row(std::string_view line);
// Appends the row as NDJSON / as one CSV record (RFC 4180: fields with , " CR or LF quoted, "
// doubled; string values as their text, JSON values as JSON text, numbers as written).
void append_ndjson_row(std::string& out, const Row& row);
void append_csv_row(std::string& out, const Row& row);

// Splits CSV records off the front of `text`. Returns how many bytes it consumed; `final`
// says no more text follows (otherwise an unterminated last record is left for the next call).
struct CsvRecords {
  std::vector<std::vector<std::string>> records;
  std::size_t consumed = 0;
};
Result<CsvRecords> split_csv(std::string_view text, bool final);
// A CSV record (after the header) back to a row; the value is checked against its type.
Result<Row> row_from_csv(const std::vector<std::string>& fields);

// The observation POST /castor/v1/ingest takes for this row (NDJSON line, with its newline).
void append_ingest_line(std::string& out, const Row& row);

// "2026-11-24": the UTC day of a timestamp.
std::string utc_day(std::int64_t ts_ns);
// A model id as a file name: DTMI ':' → '.', ';' → '@', letters, digits, '_' and '-' kept,
// anything else %XX; distinct ids give distinct names.
std::string file_safe(std::string_view model);

struct FileEntry {
  std::string path;  // relative to DIR, '/'-separated
  std::string model, day;
  FileFormat format = FileFormat::ndjson;
  bool zstd = false;
  std::uint64_t rows = 0, series = 0, bytes = 0;
  std::string sha256;  // of the file's bytes as stored (hex)
};

struct Manifest {
  std::int64_t from = 0, to = 0;
  std::string created;      // RFC 3339
  std::string model, twin;  // the export's filters ("" none)
  std::string source;       // the server's URL
  std::vector<FileEntry> files;
};
std::string manifest_json(const Manifest& m);
Result<Manifest> parse_manifest(std::string_view text);

// Writes every file of one export. Rows must come series by series (as the export endpoint sends
// them); each goes to the file of its day and model. Memory stays bounded: each file buffers at
// most 64 KiB before appending to its .tmp.
class ArchiveWriter {
 public:
  ArchiveWriter(std::filesystem::path dir, std::vector<FileFormat> formats, bool zstd);
  Status add(const Row& row);
  // Compresses (--zstd), hashes and renames every file into place; returns their entries, sorted
  // by day, model and format. After a failure the .tmp files are removed.
  Result<std::vector<FileEntry>> finish();
  void abandon();  // removes every .tmp written so far
  std::size_t files() const noexcept { return open_.size(); }

 private:
  struct Open {
    FileEntry entry;
    std::filesystem::path tmp;
    std::string buffer;
    std::string last_series;
  };
  Status open_files(const Row& row);  // the files of the row's day and model, into last_files_
  Status append(Open& f, const Row& row);
  Status flush(Open& f);
  Status seal(Open& f);
  static constexpr std::int64_t kNanosPerDay = 86'400'000'000'000;

  std::filesystem::path dir_;
  std::vector<FileFormat> formats_;
  bool zstd_;
  std::map<std::string, std::unique_ptr<Open>> open_;  // by relative path
  std::string key_;
  std::int64_t last_day_ = 0;  // day index (ts / 1 day) and model of last_files_
  std::string last_model_;
  std::vector<Open*> last_files_;
};

// Writes `text` to path.tmp, fsyncs and renames it to path.
Status write_atomically(const std::filesystem::path& path, std::string_view text);

// Reads one archive file (decompressing .zst) a piece at a time; `sha256()` is of the stored
// bytes read so far.
class ArchiveReader {
 public:
  static Result<std::unique_ptr<ArchiveReader>> open(const std::filesystem::path& path, bool zstd);
  ~ArchiveReader();
  // Appends the next decompressed bytes to `out`; false at the end of the file.
  Result<bool> read(std::string& out);
  std::string sha256();  // hex; call after the last read
  std::uint64_t bytes() const noexcept { return bytes_; }

 private:
  ArchiveReader() = default;
  struct State;
  std::unique_ptr<State> state_;
  std::uint64_t bytes_ = 0;
};

// Checks one manifest entry against its file: present, same size and SHA-256, and parses into
// exactly `rows` rows. Returns the rows' count; the error names the file and what is wrong.
Result<std::uint64_t> verify_file(const std::filesystem::path& dir, const FileEntry& e);

// Calls `fn` for every row of a file, in order (the file is read a piece at a time).
Status for_each_row(const std::filesystem::path& dir, const FileEntry& e,
                    const std::function<Status(const Row&)>& fn);

}  // namespace castor::app::archive
