#include "http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <strings.h>
#include <unistd.h>

#include <cstdlib>
#include <cctype>
#include <cstring>
#include <stdexcept>

namespace castor::bench {
namespace {

// Case-insensitive search for a header's value in the head; npos when absent.
std::size_t header_value(const std::string& head, std::string_view name) {
  std::size_t pos = head.find("\r\n");
  while (pos != std::string::npos && pos + 2 < head.size()) {
    const std::size_t line = pos + 2;
    if (head.size() > line + name.size() && head[line + name.size()] == ':' &&
        strncasecmp(head.data() + line, name.data(), name.size()) == 0) {
      std::size_t v = line + name.size() + 1;
      while (v < head.size() && head[v] == ' ') ++v;
      return v;
    }
    pos = head.find("\r\n", line);
  }
  return std::string::npos;
}

}  // namespace

HttpConnection::HttpConnection(int port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) throw std::runtime_error("socket() failed");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd_);
    throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port));
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

HttpConnection::~HttpConnection() {
  if (fd_ >= 0) ::close(fd_);
}

void HttpConnection::send_all(std::string_view s) {
  std::size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) throw std::runtime_error("send failed: " + std::string(std::strerror(errno)));
    off += static_cast<std::size_t>(n);
  }
}

bool HttpConnection::fill() {
  char tmp[65536];
  ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
  if (n <= 0) return false;
  buf_.append(tmp, static_cast<std::size_t>(n));
  return true;
}

int HttpConnection::request(std::string_view method, std::string_view target,
                            std::string_view content_type, std::string_view body) {
  std::string req;
  req.reserve(256);
  req.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  if (!content_type.empty()) req.append("Content-Type: ").append(content_type).append("\r\n");
  req.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n\r\n");
  send_all(req);
  send_all(body);
  std::size_t end;
  while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
    if (!fill()) throw std::runtime_error("connection closed before the answer's head");
  head_.assign(buf_, 0, end + 2);
  buf_.erase(0, end + 4);
  if (head_.size() < 12) throw std::runtime_error("malformed answer: " + head_);
  const int status = std::atoi(head_.c_str() + 9);
  body_.clear();
  const std::size_t te = header_value(head_, "Transfer-Encoding");
  if (te != std::string::npos && strncasecmp(head_.data() + te, "chunked", 7) == 0) {
    for (;;) {
      std::size_t eol;
      while ((eol = buf_.find("\r\n")) == std::string::npos)
        if (!fill()) throw std::runtime_error("connection closed inside a chunked body");
      const std::size_t size = std::strtoul(buf_.c_str(), nullptr, 16);
      while (buf_.size() < eol + 2 + size + 2)
        if (!fill()) throw std::runtime_error("connection closed inside a chunk");
      body_.append(buf_, eol + 2, size);
      buf_.erase(0, eol + 2 + size + 2);
      if (size == 0) break;  // no trailers expected from the servers we talk to
    }
    return status;
  }
  const std::size_t cl = header_value(head_, "Content-Length");
  const std::size_t length = cl == std::string::npos ? 0 : std::strtoul(head_.c_str() + cl, nullptr, 10);
  while (buf_.size() < length)
    if (!fill()) throw std::runtime_error("connection closed inside the body");
  body_.assign(buf_, 0, length);
  buf_.erase(0, length);
  return status;
}

std::string url_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

}  // namespace castor::bench
