#include "history/chunk_format.hpp"

#include <cstring>
#include <string>

#include "history/codec/byte_io.hpp"
#include "history/codec/crc32c.hpp"

namespace castor::history {
namespace {

constexpr std::size_t kChecksumOffset = 32;

template <class T>
T field(const std::uint8_t* header, std::size_t offset) noexcept {
  T v;
  std::memcpy(&v, header + offset, sizeof v);
  return v;
}

Status corrupt(const std::string& what) {
  return invalid_argument("history chunk header is corrupt: " + what +
                          "; the stored chunk is damaged or not a Castor chunk");
}

}  // namespace

Result<ChunkHeader> read_header(std::span<const std::uint8_t> chunk) {
  if (chunk.size() < kChunkHeaderSize) {
    return corrupt(std::to_string(chunk.size()) + " bytes is shorter than the 36-byte header");
  }
  const std::uint8_t* p = chunk.data();
  const auto magic = field<std::uint32_t>(p, 0);
  const std::uint8_t version = p[4];
  const std::uint8_t type = p[5];
  const auto flags = field<std::uint16_t>(p, 6);
  const auto count = field<std::uint32_t>(p, 8);
  const auto body = field<std::uint32_t>(p, 28);
  ChunkHeader h;
  h.min_ts = field<std::int64_t>(p, 12);
  h.max_ts = field<std::int64_t>(p, 20);
  h.checksum = field<std::uint32_t>(p, kChecksumOffset);
  if (magic != kChunkMagic) return corrupt("bad magic number");
  if (version < kOldestChunkVersion || version > kChunkVersion) {
    return invalid_argument("history chunk has format version " + std::to_string(version) +
                            ", this build reads versions " + std::to_string(kOldestChunkVersion) +
                            " to " + std::to_string(kChunkVersion) + "; upgrade Castor to read it");
  }
  if (!is_valid_value_type(type)) return corrupt("unknown value type " + std::to_string(type));
  if (flags != 0) return corrupt("reserved flags are set");
  if (count == 0 || count > kMaxPointsPerChunk) {
    return corrupt("point count " + std::to_string(count) + " is out of range");
  }
  if (h.min_ts > h.max_ts || (count == 1) != (h.min_ts == h.max_ts)) {
    return corrupt("time range does not match the point count");
  }
  if (body != chunk.size() - kChunkHeaderSize) {
    return corrupt("body size " + std::to_string(body) + " does not match the chunk size " +
                   std::to_string(chunk.size()));
  }
  h.type = static_cast<ValueType>(type);
  h.count = count;
  h.body_bytes = body;
  return h;
}

void write_header(const ChunkHeader& h, std::span<const std::uint8_t> body, Bytes& out) {
  const std::size_t start = out.size();
  codec::put_fixed(out, kChunkMagic);
  out.push_back(kChunkVersion);
  out.push_back(static_cast<std::uint8_t>(h.type));
  codec::put_fixed(out, std::uint16_t{0});
  codec::put_fixed(out, h.count);
  codec::put_fixed(out, h.min_ts);
  codec::put_fixed(out, h.max_ts);
  codec::put_fixed(out, static_cast<std::uint32_t>(body.size()));
  std::uint32_t crc = codec::crc32c(0, {out.data() + start, kChecksumOffset});
  crc = codec::crc32c(crc, body);
  codec::put_fixed(out, crc);
}

std::uint32_t compute_checksum(std::span<const std::uint8_t> chunk) noexcept {
  if (chunk.size() < kChunkHeaderSize) return 0;
  const std::uint32_t crc = codec::crc32c(0, chunk.first(kChecksumOffset));
  return codec::crc32c(crc, chunk.subspan(kChunkHeaderSize));
}

}  // namespace castor::history
