#include "history/series_layout.hpp"

#include <bit>
#include <cstring>

#include "history/codec/byte_io.hpp"

namespace castor::history {
namespace {

void put_be64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}

void put_be32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}

std::uint64_t ordered(std::int64_t ts) {
  return static_cast<std::uint64_t>(ts) ^ (std::uint64_t{1} << 63);
}

void put_varint_str(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_text(std::string& out, std::string_view s) {
  put_varint_str(out, s.size());
  out.append(s);
}

std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
std::int64_t unzigzag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

bool read_text(codec::ByteReader& r, std::string& out) {
  std::uint64_t n = 0;
  std::span<const std::uint8_t> sp;
  if (!r.read_varint(n) || !r.read_span(n, sp)) return false;
  out.assign(reinterpret_cast<const char*>(sp.data()), sp.size());
  return true;
}

}  // namespace

std::string id_key(std::uint64_t id) {
  std::string k;
  put_be64(k, id);
  return k;
}

std::string chunk_key(std::uint64_t id, std::int64_t min_ts) {
  std::string k;
  put_be64(k, id);
  put_be64(k, ordered(min_ts));
  return k;
}

std::string wal_key(std::uint32_t partition, std::uint64_t seq) {
  std::string k;
  put_be32(k, partition);
  put_be64(k, seq);
  return k;
}

bool parse_id_key(std::string_view key, std::uint64_t& id) {
  if (key.size() != 8) return false;
  id = 0;
  for (char c : key) id = (id << 8) | static_cast<std::uint8_t>(c);
  return true;
}

void encode_descriptor(const Series& s, std::string& out) {
  out.push_back(static_cast<char>(kDescriptorVersion));
  out.push_back(static_cast<char>(s.type));
  char raw[8];
  std::memcpy(raw, &s.sealed_max, 8);
  out.append(raw, 8);
  std::memcpy(raw, &s.retention_ns, 8);
  out.append(raw, 8);
  put_text(out, s.twin);
  put_text(out, s.component);
  put_text(out, s.name);
  put_text(out, s.model);
  std::memcpy(raw, &s.sealed_f, 8);
  out.append(raw, 8);
  std::memcpy(raw, &s.sealed_i, 8);
  out.append(raw, 8);
  put_text(out, s.sealed_s);
}

Result<std::unique_ptr<Series>> decode_descriptor(std::uint64_t id, std::string_view bytes) {
  codec::ByteReader r(bytes_of(bytes));
  std::uint8_t version = 0, type = 0;
  auto corrupt = [&] {
    return Status(Code::internal,
                  "history series descriptor " + std::to_string(id) + " is corrupt");
  };
  if (!r.read_u8(version) || version != kDescriptorVersion || !r.read_u8(type) ||
      !is_valid_value_type(type))
    return corrupt();
  auto s = std::make_unique<Series>(static_cast<ValueType>(type));
  s->id = id;
  if (!r.read_fixed(s->sealed_max) || !r.read_fixed(s->retention_ns) || !read_text(r, s->twin) ||
      !read_text(r, s->component) || !read_text(r, s->name) || !read_text(r, s->model) ||
      !r.read_fixed(s->sealed_f) || !r.read_fixed(s->sealed_i) || !read_text(r, s->sealed_s) ||
      r.remaining() != 0)
    return corrupt();
  // Until the head and WAL say otherwise, the last point is the last sealed one.
  s->last_ts = s->sealed_max;
  s->last_f = s->sealed_f;
  s->last_i = s->sealed_i;
  s->last_s = s->sealed_s;
  return s;
}

void encode_wal_group(const Series& s, std::span<const PointIn> points, Bytes& out) {
  codec::put_varint(out, s.id);
  out.push_back(static_cast<std::uint8_t>(s.type));
  codec::put_varint(out, s.wal_points.size());
  std::int64_t prev = 0;
  bool first = true;
  for (std::uint32_t i : s.wal_points) {
    if (first) {
      codec::put_fixed(out, points[i].ts);
      first = false;
    } else {
      codec::put_varint(out, static_cast<std::uint64_t>(points[i].ts - prev));
    }
    prev = points[i].ts;
  }
  for (std::uint32_t i : s.wal_points) {
    const PointIn& p = points[i];
    switch (s.type) {
      case ValueType::float64: codec::put_fixed(out, std::bit_cast<std::uint64_t>(p.f)); break;
      case ValueType::int64: codec::put_varint(out, zigzag(p.i)); break;
      case ValueType::boolean: out.push_back(p.i ? 1 : 0); break;
      case ValueType::string:
        codec::put_varint(out, p.s.size());
        out.insert(out.end(), p.s.begin(), p.s.end());
        break;
    }
  }
}

Status decode_wal_record(std::string_view bytes,
                         const std::function<Status(std::uint64_t, const PointIn&)>& fn) {
  codec::ByteReader r(bytes_of(bytes));
  auto corrupt = [] { return Status(Code::internal, "a history WAL record is corrupt"); };
  std::uint8_t version = 0;
  if (!r.read_u8(version) || version != kWalVersion) return corrupt();
  std::vector<std::int64_t> ts;
  while (r.remaining() > 0) {
    std::uint64_t id = 0, n = 0;
    std::uint8_t type = 0;
    if (!r.read_varint(id) || !r.read_u8(type) || !is_valid_value_type(type) || !r.read_varint(n) ||
        n == 0 || n > r.remaining())
      return corrupt();
    ts.resize(n);
    if (!r.read_fixed(ts[0])) return corrupt();
    for (std::size_t i = 1; i < n; ++i) {
      std::uint64_t d = 0;
      if (!r.read_varint(d) || d == 0) return corrupt();
      ts[i] = ts[i - 1] + static_cast<std::int64_t>(d);
    }
    PointIn p;
    p.type = static_cast<ValueType>(type);
    for (std::size_t i = 0; i < n; ++i) {
      p.ts = ts[i];
      std::uint64_t raw = 0;
      switch (p.type) {
        case ValueType::float64:
          if (!r.read_fixed(raw)) return corrupt();
          p.f = std::bit_cast<double>(raw);
          break;
        case ValueType::int64:
          if (!r.read_varint(raw)) return corrupt();
          p.i = unzigzag(raw);
          break;
        case ValueType::boolean: {
          std::uint8_t b = 0;
          if (!r.read_u8(b) || b > 1) return corrupt();
          p.i = b;
          break;
        }
        case ValueType::string: {
          std::span<const std::uint8_t> sp;
          if (!r.read_varint(raw) || !r.read_span(raw, sp)) return corrupt();
          p.s = std::string_view(reinterpret_cast<const char*>(sp.data()), sp.size());
          break;
        }
      }
      CASTOR_RETURN_IF_ERROR(fn(id, p));
    }
  }
  return Status::ok();
}

}  // namespace castor::history
