#include "query/twin_columns.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "query/eval.hpp"
#include "query/path_reader.hpp"
#include "query/twin_index.hpp"

namespace castor::query {

// --- ColumnCell ---

ColumnCell ColumnCell::of(const Datum& d) noexcept {
  ColumnCell c;
  c.kind_ = d.kind;
  switch (d.kind) {
    case Datum::Kind::boolean: c.u_.b = d.boolean; break;
    case Datum::Kind::integer: c.u_.i = d.integer; break;
    case Datum::Kind::real: c.u_.d = d.real; break;
    case Datum::Kind::string:
      c.size_ = static_cast<std::uint32_t>(d.text.size());
      c.inline_text_ = d.text.size() <= kInline;
      if (c.inline_text_) {
        std::memcpy(c.u_.chars, d.text.data(), d.text.size());
      } else {
        c.u_.p = d.text.data();
      }
      break;
    case Datum::Kind::object:
    case Datum::Kind::array: c.complex_ = true; break;
    default: break;
  }
  return c;
}

Datum ColumnCell::datum() const noexcept {
  switch (kind_) {
    case Datum::Kind::null: return Datum::null();
    case Datum::Kind::boolean: return Datum::of_bool(u_.b);
    case Datum::Kind::integer: return Datum::of_int(u_.i);
    case Datum::Kind::real: return Datum::of_real(u_.d);
    case Datum::Kind::string:
      return Datum::of_text(std::string_view(inline_text_ ? u_.chars : u_.p, size_));
    default: return Datum::undefined();
  }
}

namespace {

ColumnCell cell_of(const twin::Twin& t, std::string_view name, Scratch& s) {
  const std::array<std::string_view, 1> names{name};
  ColumnCell cell = ColumnCell::of(read_twin_path(t, names, s));
  s.clear();  // a string cell views the twin's own text, never the scratch
  return cell;
}

// Reads a twin's row from the columns: each condition path maps to a column (or to none for a
// path of no slot, always undefined). Notes when a cell cannot stand for the twin's value.
class ColumnResolver final : public Resolver {
 public:
  ColumnResolver(const std::vector<std::size_t>& column_of, const model::CompiledInterface& model,
                 const std::vector<std::vector<ColumnCell>>& columns)
      : column_of_(column_of), model_(model), columns_(columns) {}
  void at(std::size_t pos) noexcept {
    pos_ = pos;
    complex_ = false;
  }
  bool complex() const noexcept { return complex_; }

  Datum read(ExprId path, Scratch&) const override {
    const std::size_t c = column_of_[path];
    if (c == kNone) return Datum::undefined();
    const ColumnCell& cell = columns_[c][pos_];
    if (cell.complex()) complex_ = true;
    return cell.datum();
  }
  const model::CompiledInterface* model_of(SlotId) const override { return &model_; }

  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);

 private:
  const std::vector<std::size_t>& column_of_;
  const model::CompiledInterface& model_;
  const std::vector<std::vector<ColumnCell>>& columns_;
  std::size_t pos_ = 0;
  mutable bool complex_ = false;
};

// The paths (expression ids) that `e` reads, or false if one is not a single top-level property
// name (a whole twin, $-names, nested paths): those need the twin.
bool property_paths(const Plan& plan, ExprId e, std::vector<ExprId>& out) {
  const Expr& x = plan.query.expr(e);
  if (x.kind == ExprKind::path) {
    const PathPlan& p = plan.paths[e];
    if (p.slot == kNoSlot) return true;  // names no collection: undefined for every row
    if (p.names.size() != 1 || p.names[0].starts_with('$')) return false;
    out.push_back(e);
    return true;
  }
  for (ExprId kid : plan.query.children(x)) {
    if (!property_paths(plan, kid, out)) return false;
  }
  return true;
}

}  // namespace

// --- ShardIndex columns ---

void ShardIndex::set_cells(const Slot& slot, std::size_t pos, const twin::Twin& t) const {
  for (std::size_t c = 0; c < columns_.size(); ++c) slot.columns[c][pos] = cell_of(t, columns_[c], cell_scratch_);
}

void ShardIndex::push_cells(const Slot& slot, const twin::Twin& t) const {
  // A slot made after a column was added has none of its vectors yet (and had no twins).
  slot.columns.resize(columns_.size());
  for (std::size_t c = 0; c < columns_.size(); ++c) slot.columns[c].push_back(cell_of(t, columns_[c], cell_scratch_));
}

void ShardIndex::move_last_cells(const Slot& slot, std::size_t pos) {
  for (auto& column : slot.columns) {
    if (pos + 1 < column.size()) column[pos] = column.back();
    column.pop_back();
  }
}

void ShardIndex::add_column(std::string_view name) const {
  columns_.emplace_back(name);
  for (const auto& [id, slot] : models_) {
    slot.columns.resize(columns_.size() - 1);  // a slot that never saw a column
    auto& column = slot.columns.emplace_back();
    column.reserve(slot.twins.size());
    for (const twin::Twin* t : slot.twins) column.push_back(cell_of(*t, name, cell_scratch_));
  }
}

bool ShardIndex::scan_columns(const Plan& plan, std::size_t hot,
                              const std::function<bool(const twin::Twin&)>& visit,
                              const std::function<bool()>& skip) const {
  const auto& local = plan.slots[plan.anchor].local;
  if (hot == 0 || local.empty() || plan.access.kind != AccessKind::scan ||
      plan.slots[plan.anchor].kind != SlotKind::twin)
    return false;
  std::vector<ExprId> paths;
  for (ExprId c : local) {
    if (!property_paths(plan, c, paths)) return false;
  }
  // Each property this scan reads counts once; the scan uses columns only when every one of
  // them has (or now gets) a column.
  std::vector<std::string_view> missing;
  for (ExprId p : paths) {
    const std::string_view name = plan.paths[p].names[0];
    if (std::find(columns_.begin(), columns_.end(), name) != columns_.end() ||
        std::find(missing.begin(), missing.end(), name) != missing.end())
      continue;
    missing.push_back(name);
  }
  bool ready = columns_.size() + missing.size() <= kMaxColumns;
  for (std::string_view name : missing) {
    auto count = scanned_.find(name);
    if (count == scanned_.end()) count = scanned_.emplace(std::string(name), 0).first;
    ready = ++count->second >= hot && ready;
  }
  if (!ready) return false;
  for (std::string_view name : missing) add_column(name);
  std::vector<std::size_t> column_of(plan.paths.size(), ColumnResolver::kNone);
  for (ExprId p : paths) {
    const auto it = std::find(columns_.begin(), columns_.end(), plan.paths[p].names[0]);
    column_of[p] = static_cast<std::size_t>(it - columns_.begin());
  }
  Scratch s;
  for (const auto& [id, slot] : models_) {
    ColumnResolver row(column_of, *slot.model, slot.columns);
    for (std::size_t i = 0; i < slot.twins.size(); ++i) {
      row.at(i);
      const bool maybe = all_true(plan, local, row, s);
      s.clear();
      const bool go_on = (maybe || row.complex()) ? visit(*slot.twins[i]) : skip();
      if (!go_on) return true;
    }
  }
  return true;
}

}  // namespace castor::query
