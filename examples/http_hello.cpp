// http_hello — a minimal HTTP/1.1 server: a goroutine per connection,
// keep-alive, pipelined requests answered in order, 400 on garbage. Every
// request gets "Hello, World!". The benchmark server bench_http_server is
// this file's serve_conn (bench/http_server.cpp), measured with wrk against
// a Go server of the same shape.
//
// Go's version of the same shape (bench/go/http_server) reads with a
// bufio.Reader and answers with a bufio.Writer:
//
//   for { resp, err := readRequest(r); ...; w.WriteString(resp); if r.Buffered() == 0 { w.Flush() } }
//
// What to notice:
// - conn.read() parks the goroutine until bytes arrive; thousands of idle
//   keep-alive connections cost their goroutines' stacks, not threads.
// - Parsing is kept small and strict: request line, headers (at most 8 KiB
//   and 100 lines), Content-Length (the body is read and dropped);
//   anything else is answered 400 and the connection closed.
//
//   example_http_hello [--addr 127.0.0.1:8080]   serve until killed
//   example_http_hello --check                   serve on a free port and let curl (and a
//                                                raw client) check it, then exit
#include <goro/goro.hpp>

#include <cctype>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

namespace http_hello {

inline constexpr std::string_view ok_keep_alive =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!";
inline constexpr std::string_view ok_close =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nConnection: close\r\n\r\nHello, World!";
inline constexpr std::string_view ok_keep_10 =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nConnection: keep-alive\r\n\r\nHello, World!";
inline constexpr std::string_view bad_request =
    "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

inline constexpr std::size_t max_head = 8 << 10;
inline constexpr int max_header_lines = 100;
inline constexpr std::size_t max_body = 1 << 20;

// RFC 9110 token (a method, a header name).
inline bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (c <= ' ' || c >= 0x7f || std::strchr("\"(),/:;<=>?@[\\]{}", c)) return false;
  return true;
}

inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

enum class Parse { done, more, bad };

// Parses one request at the front of `in`. On done: `used` is the length of
// its head, `body` its Content-Length, `resp` the answer.
inline Parse parse_request(std::string_view in, std::size_t& used, std::size_t& body, std::string_view& resp) {
  std::size_t pos = 0;
  // One line without its end; false if no complete line yet.
  auto line = [&](std::string_view& out) {
    const std::size_t nl = in.find('\n', pos);
    if (nl == std::string_view::npos) return false;
    out = in.substr(pos, nl - pos);
    if (!out.empty() && out.back() == '\r') out.remove_suffix(1);
    pos = nl + 1;
    return true;
  };
  auto need_more = [&] { return in.size() > max_head ? Parse::bad : Parse::more; };
  std::string_view l;
  do {  // RFC 9112 2.2: empty lines before a request are ignored
    if (!line(l)) return need_more();
  } while (l.empty());
  // METHOD SP target SP version
  const std::size_t s1 = l.find(' ');
  const std::size_t s2 = s1 == std::string_view::npos ? s1 : l.find(' ', s1 + 1);
  if (s2 == std::string_view::npos || l.find(' ', s2 + 1) != std::string_view::npos) return Parse::bad;
  const std::string_view method = l.substr(0, s1), target = l.substr(s1 + 1, s2 - s1 - 1), version = l.substr(s2 + 1);
  if (!is_token(method) || target.empty()) return Parse::bad;
  bool keep_alive;
  if (version == "HTTP/1.1") keep_alive = true;
  else if (version == "HTTP/1.0") keep_alive = false;
  else return Parse::bad;
  const bool http10 = !keep_alive;
  long long content_length = -1;
  for (int lines = 0;; ++lines) {
    if (!line(l)) return need_more();
    if (pos > max_head) return Parse::bad;
    if (l.empty()) break;
    if (lines >= max_header_lines) return Parse::bad;
    const std::size_t colon = l.find(':');
    if (colon == std::string_view::npos || !is_token(l.substr(0, colon))) return Parse::bad;
    const std::string_view name = l.substr(0, colon), value = trim(l.substr(colon + 1));
    if (iequals(name, "Content-Length")) {
      if (value.empty() || value.size() > 8) return Parse::bad;
      long long n = 0;
      for (char c : value) {
        if (c < '0' || c > '9') return Parse::bad;
        n = n * 10 + (c - '0');
      }
      if (n > static_cast<long long>(max_body) || (content_length >= 0 && content_length != n)) return Parse::bad;
      content_length = n;
    } else if (iequals(name, "Transfer-Encoding")) {
      return Parse::bad;  // not supported by this minimal server
    } else if (iequals(name, "Connection")) {
      std::string_view rest = value;
      while (!rest.empty()) {
        const std::size_t comma = rest.find(',');
        const std::string_view tok = trim(rest.substr(0, comma));
        if (iequals(tok, "close")) keep_alive = false;
        else if (http10 && iequals(tok, "keep-alive")) keep_alive = true;
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      }
    }
  }
  used = pos;
  body = content_length > 0 ? static_cast<std::size_t>(content_length) : 0;
  resp = !keep_alive ? ok_close : http10 ? ok_keep_10 : ok_keep_alive;
  return Parse::done;
}

// Serves one connection until the peer closes it, a request asks to close,
// or a request is malformed. Answers to pipelined requests go out together,
// when no complete request is left in the buffer.
inline void serve_conn(goro::net::Conn& c) {
  std::string buf(16 << 10, '\0');
  std::size_t start = 0, end = 0, discard = 0;
  std::string out;
  for (;;) {
    // Answer every complete request in the buffer.
    for (;;) {
      if (discard > 0) {  // the rest of a body
        const std::size_t n = std::min(discard, end - start);
        start += n;
        discard -= n;
        if (discard > 0) break;
      }
      std::size_t used = 0, body = 0;
      std::string_view resp;
      const Parse p = parse_request(std::string_view(buf).substr(start, end - start), used, body, resp);
      if (p == Parse::bad) {
        out.append(bad_request);
        c.write(out);
        return;
      }
      if (p == Parse::more) break;
      out.append(resp);
      start += used;
      discard = body;
      if (resp == ok_close) {
        c.write(out);
        return;
      }
    }
    if (!out.empty()) {
      c.write(out);
      out.clear();
    }
    if (start == end) start = end = 0;
    if (start > 0 && end == buf.size()) {  // make room: move the partial request to the front
      buf.erase(0, start);
      buf.resize(buf.capacity());
      end -= start;
      start = 0;
    }
    const std::size_t n = c.read(std::span(buf.data() + end, buf.size() - end));
    if (n == 0) return;  // the peer closed
    end += n;
  }
}

}  // namespace http_hello

#ifndef HTTP_HELLO_NO_MAIN

namespace {

// What a raw client gets for one request (the server closes after 400).
std::string raw_request(const std::string& addr, std::string_view req) {
  goro::net::Conn c = goro::net::dial("tcp", addr);
  c.write(req);
  c.shutdown_write();
  std::string all;
  char buf[4096];
  while (std::size_t n = c.read(std::span(buf))) all.append(buf, n);
  return all;
}

int check(goro::net::Listener& ln) {
  const std::string addr = ln.addr().string();
  // curl, a real HTTP client: two requests on one keep-alive connection.
  const std::string cmd = "curl -sS --max-time 10 -w '\\n%{http_code} %{num_connects} connection(s)\\n' http://" +
                          addr + "/a -w '\\n%{http_code} %{num_connects} connection(s)\\n' http://" + addr + "/b 2>&1";
  const std::string curl = goro::blocking([&] {
    std::string s;
    if (FILE* p = ::popen(cmd.c_str(), "r")) {
      char b[512];
      while (std::size_t n = std::fread(b, 1, sizeof b, p)) s.append(b, n);
      ::pclose(p);
    }
    return s;
  });
  std::printf("curl:\n%s", curl.c_str());
  // Pipelined requests, a Content-Length body, HTTP/1.0 and garbage.
  const std::string piped = raw_request(addr,
      "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /2 HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /3 HTTP/1.1\r\n"
      "Connection: close\r\n\r\n");
  int answers = 0;
  for (std::size_t p = 0; (p = piped.find("HTTP/1.1 200 OK", p)) != std::string::npos; ++p) ++answers;
  std::printf("pipelined: %d answers, last one closes: %s\n", answers,
              piped.find("Connection: close") != std::string::npos ? "yes" : "no");
  const std::string old = raw_request(addr, "GET / HTTP/1.0\r\n\r\n");
  std::printf("HTTP/1.0: %s\n", old.find("Connection: close\r\n\r\nHello, World!") != std::string::npos ? "200, closed" : "wrong");
  const std::string bad = raw_request(addr, "HELLO THERE\r\n\r\n");
  std::printf("garbage: %s\n", bad.substr(0, bad.find('\r')).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string addr = "127.0.0.1:8080";
  bool check_mode = false;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--check") {
      check_mode = true;
      addr = "127.0.0.1:0";
    } else if (std::string_view(argv[i]) == "--addr" && i + 1 < argc) {
      addr = argv[++i];
    }
  }
  return goro::run([&] {
    goro::net::Listener ln = goro::net::listen("tcp", addr);
    if (!check_mode) std::printf("listening on http://%s/\n", ln.addr().string().c_str());
    std::fflush(stdout);
    // The accept loop uses ln: it must have returned before ln is destroyed.
    goro::WaitGroup acceptor;
    acceptor.go([&ln] {
      for (;;) {
        goro::net::Conn c;
        try {
          c = ln.accept();
        } catch (const std::system_error&) {
          return;  // closed
        }
        goro::go([c = std::move(c)]() mutable {
          try {
            http_hello::serve_conn(c);
          } catch (const std::system_error&) {
          }
        });
      }
    });
    if (!check_mode) {
      goro::Chan<int>().recv();  // serve until killed (a nil channel never delivers)
    }
    const int rc = check(ln);
    ln.close();
    acceptor.wait();
    return rc;
  });
}

#endif  // HTTP_HELLO_NO_MAIN
