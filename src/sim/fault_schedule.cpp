#include "sim/fault_schedule.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <sstream>

namespace castor::sim {

Result<std::vector<Fault>> load_fault_schedule(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status(Code::not_found, fmt::format("cannot read the fault schedule {}", file.string()));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  std::vector<Fault> out;
  auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '[') {
    auto doc = json::parse(text);
    if (!doc) return Status(Code::invalid_argument, fmt::format("{}: {}", file.string(), doc.status().message()));
    if (!doc->is_array()) return Status(Code::invalid_argument, fmt::format("{}: expected a JSON array of faults", file.string()));
    std::size_t i = 0;
    for (const auto& v : doc->as_array()) {
      auto f = parse_fault_request(v);
      if (!f) return Status(Code::invalid_argument, fmt::format("{}: fault {}: {}", file.string(), i, f.status().message()));
      out.push_back(std::move(*f));
      ++i;
    }
  } else {
    std::istringstream lines(text);
    std::string line;
    std::size_t n = 0;
    while (std::getline(lines, line)) {
      ++n;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      auto p = line.find_first_not_of(" \t");
      if (p == std::string::npos || line[p] == '#') continue;
      auto doc = json::parse(line);
      if (!doc) return Status(Code::invalid_argument, fmt::format("{}:{}: {}", file.string(), n, doc.status().message()));
      auto f = parse_fault_request(*doc);
      if (!f) return Status(Code::invalid_argument, fmt::format("{}:{}: {}", file.string(), n, f.status().message()));
      out.push_back(std::move(*f));
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const Fault& a, const Fault& b) { return a.at_s < b.at_s; });
  return out;
}

GroundTruth::~GroundTruth() {
  if (f_) std::fclose(f_);
}

Status GroundTruth::open(const std::filesystem::path& file) {
  f_ = std::fopen(file.c_str(), "a");
  if (!f_) return Status(Code::invalid_argument, fmt::format("cannot append to the ground-truth file {}", file.string()));
  return Status::ok();
}

Status GroundTruth::record(const Fault& fault, std::int64_t start_ns, double sim_seconds, const char* source) {
  if (!f_) return Status::ok();
  json::object o{{"fault", fault_name(fault.kind)},
                 {"twin", fault.twin},
                 {"severity", fault.severity},
                 {"start", rfc3339_ns(start_ns)},
                 {"startNs", start_ns},
                 {"simSeconds", sim_seconds},
                 {"source", source}};
  if (fault.joint) o["joint"] = fault.joint;
  std::string line = json::serialize(json::value(std::move(o))) + "\n";
  if (std::fwrite(line.data(), 1, line.size(), f_) != line.size() || std::fflush(f_) != 0)
    return Status(Code::internal, "cannot write the ground-truth file");
  return Status::ok();
}

std::string rfc3339_ns(std::int64_t ns) {
  std::time_t secs = static_cast<std::time_t>(ns / 1000000000);
  long frac = static_cast<long>(ns % 1000000000);
  if (frac < 0) {
    frac += 1000000000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:09d}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

}  // namespace castor::sim
