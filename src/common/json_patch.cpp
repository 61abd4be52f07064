#include "common/json_patch.hpp"

namespace castor::json {
namespace {

Result<std::size_t> array_index(const std::string& token, std::size_t size, bool allow_end) {
  if (allow_end && token == "-") return size;
  if (token.empty() || (token.size() > 1 && token[0] == '0') || token.size() > 18)
    return invalid_argument("'" + token + "' is not an array index");
  std::size_t n = 0;
  for (char c : token) {
    if (c < '0' || c > '9') return invalid_argument("'" + token + "' is not an array index");
    n = n * 10 + static_cast<std::size_t>(c - '0');
  }
  if (n > size || (n == size && !allow_end))
    return invalid_argument("array index " + token + " is out of range");
  return n;
}

// Resolves all but the last token; returns the container that holds the target.
Result<value*> parent_of(value& root, const std::vector<std::string>& path) {
  value* cur = &root;
  for (std::size_t i = 0; i + 1 < path.size(); ++i) {
    const std::string& t = path[i];
    if (cur->is_object()) {
      auto* next = cur->get_object().if_contains(t);
      if (!next) return not_found("path element '" + t + "' does not exist");
      cur = next;
    } else if (cur->is_array()) {
      auto idx = array_index(t, cur->get_array().size(), false);
      if (!idx) return idx.status();
      cur = &cur->get_array()[*idx];
    } else {
      return invalid_argument("path element '" + t + "' is inside a value that is not a container");
    }
  }
  return cur;
}

Result<value> take(value& root, const std::vector<std::string>& path) {
  if (path.empty()) return invalid_argument("cannot remove the whole document");
  auto parent = parent_of(root, path);
  if (!parent) return parent.status();
  value& c = **parent;
  const std::string& last = path.back();
  if (c.is_object()) {
    auto it = c.get_object().find(last);
    if (it == c.get_object().end()) return not_found("'" + last + "' does not exist");
    value v = std::move(it->value());
    c.get_object().erase(it);
    return v;
  }
  if (c.is_array()) {
    auto idx = array_index(last, c.get_array().size(), false);
    if (!idx) return idx.status();
    value v = std::move(c.get_array()[*idx]);
    c.get_array().erase(c.get_array().begin() + static_cast<std::ptrdiff_t>(*idx));
    return v;
  }
  return invalid_argument("cannot remove from a value that is not a container");
}

Status put(value& root, const std::vector<std::string>& path, value v, bool replace) {
  if (path.empty()) {
    root = std::move(v);
    return Status::ok();
  }
  auto parent = parent_of(root, path);
  if (!parent) return parent.status();
  value& c = **parent;
  const std::string& last = path.back();
  if (c.is_object()) {
    if (replace && !c.get_object().contains(last))
      return not_found("'" + last + "' does not exist, so it cannot be replaced; use \"add\"");
    c.get_object()[last] = std::move(v);
    return Status::ok();
  }
  if (c.is_array()) {
    auto& a = c.get_array();
    auto idx = array_index(last, a.size(), !replace);
    if (!idx) return idx.status();
    if (replace) a[*idx] = std::move(v);
    else a.insert(a.begin() + static_cast<std::ptrdiff_t>(*idx), std::move(v));
    return Status::ok();
  }
  return invalid_argument("cannot add to a value that is not a container");
}

Status apply_one(value& doc, const PatchOp& op) {
  switch (op.kind) {
    case PatchOp::Kind::add: return put(doc, op.path, op.val, false);
    case PatchOp::Kind::replace: return put(doc, op.path, op.val, true);
    case PatchOp::Kind::remove: return take(doc, op.path).status();
    case PatchOp::Kind::move: {
      auto v = take(doc, op.from);
      if (!v) return v.status();
      return put(doc, op.path, std::move(*v), false);
    }
    case PatchOp::Kind::copy: {
      std::string from = "/";
      for (std::size_t i = 0; i < op.from.size(); ++i)
        from += (i ? "/" : "") + escape_pointer_token(op.from[i]);
      const value* src = op.from.empty() ? &doc : find_pointer(doc, from);
      if (!src) return not_found("copy source does not exist");
      return put(doc, op.path, *src, false);
    }
    case PatchOp::Kind::test: {
      const value* cur = find_pointer(doc, op.path_text);
      if (!cur || *cur != op.val) return failed_precondition("test operation at " + op.path_text + " failed");
      return Status::ok();
    }
  }
  return Status::ok();
}

}  // namespace

Result<std::vector<std::string>> parse_pointer(std::string_view pointer) {
  std::vector<std::string> out;
  if (pointer.empty()) return out;
  if (pointer.front() != '/') return invalid_argument("JSON Pointer '" + std::string(pointer) + "' must start with '/'");
  std::size_t i = 1;
  std::string cur;
  for (; i <= pointer.size(); ++i) {
    if (i == pointer.size() || pointer[i] == '/') {
      out.push_back(std::move(cur));
      cur.clear();
      continue;
    }
    if (pointer[i] == '~') {
      if (i + 1 >= pointer.size() || (pointer[i + 1] != '0' && pointer[i + 1] != '1'))
        return invalid_argument("JSON Pointer '" + std::string(pointer) + "' has a bad '~' escape (use ~0 or ~1)");
      cur.push_back(pointer[i + 1] == '0' ? '~' : '/');
      ++i;
      continue;
    }
    cur.push_back(pointer[i]);
  }
  return out;
}

std::string escape_pointer_token(std::string_view token) {
  std::string s;
  for (char c : token) {
    if (c == '~') s += "~0";
    else if (c == '/') s += "~1";
    else s.push_back(c);
  }
  return s;
}

const value* find_pointer(const value& root, std::string_view pointer) {
  auto tokens = parse_pointer(pointer);
  if (!tokens) return nullptr;
  const value* cur = &root;
  for (const auto& t : *tokens) {
    if (cur->is_object()) {
      cur = cur->get_object().if_contains(t);
      if (!cur) return nullptr;
    } else if (cur->is_array()) {
      auto idx = array_index(t, cur->get_array().size(), false);
      if (!idx) return nullptr;
      cur = &cur->get_array()[*idx];
    } else {
      return nullptr;
    }
  }
  return cur;
}

Result<std::vector<PatchOp>> parse_patch(const value& patch) {
  if (!patch.is_array()) return invalid_argument("a JSON Patch must be an array of operations");
  std::vector<PatchOp> ops;
  for (std::size_t i = 0; i < patch.get_array().size(); ++i) {
    const value& o = patch.get_array()[i];
    std::string where = "operation " + std::to_string(i) + ": ";
    if (!o.is_object()) return invalid_argument(where + "must be an object");
    const auto& obj = o.get_object();
    const value* opv = obj.if_contains("op");
    const value* pathv = obj.if_contains("path");
    if (!opv || !opv->is_string()) return invalid_argument(where + "needs a string \"op\"");
    if (!pathv || !pathv->is_string()) return invalid_argument(where + "needs a string \"path\"");
    PatchOp op;
    std::string_view name = sv(opv->get_string());
    if (name == "add") op.kind = PatchOp::Kind::add;
    else if (name == "remove") op.kind = PatchOp::Kind::remove;
    else if (name == "replace") op.kind = PatchOp::Kind::replace;
    else if (name == "move") op.kind = PatchOp::Kind::move;
    else if (name == "copy") op.kind = PatchOp::Kind::copy;
    else if (name == "test") op.kind = PatchOp::Kind::test;
    else return invalid_argument(where + "unknown op '" + std::string(name) + "' (use add, remove, replace, move, copy or test)");
    op.path_text = std::string(sv(pathv->get_string()));
    auto path = parse_pointer(op.path_text);
    if (!path) return invalid_argument(where + path.status().message());
    op.path = std::move(*path);
    if (op.kind == PatchOp::Kind::add || op.kind == PatchOp::Kind::replace || op.kind == PatchOp::Kind::test) {
      const value* v = obj.if_contains("value");
      if (!v) return invalid_argument(where + "'" + std::string(name) + "' needs a \"value\"");
      op.val = *v;
    }
    if (op.kind == PatchOp::Kind::move || op.kind == PatchOp::Kind::copy) {
      const value* f = obj.if_contains("from");
      if (!f || !f->is_string()) return invalid_argument(where + "'" + std::string(name) + "' needs a string \"from\"");
      auto from = parse_pointer(sv(f->get_string()));
      if (!from) return invalid_argument(where + from.status().message());
      op.from = std::move(*from);
    }
    ops.push_back(std::move(op));
  }
  return ops;
}

Status apply_patch(value& doc, const std::vector<PatchOp>& ops) {
  value work = doc;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    Status s = apply_one(work, ops[i]);
    if (!s.is_ok())
      return Status(s.code(), "operation " + std::to_string(i) + " (" + ops[i].path_text + "): " + s.message());
  }
  doc = std::move(work);
  return Status::ok();
}

}  // namespace castor::json
