// net — TCP, UDP and Unix-domain sockets in blocking style, shaped after
// Go's net package: a goroutine that reads, writes, accepts or connects
// parks until the socket is ready (the runtime's network poller,
// detail/netpoll.hpp), so a server is a goroutine per connection and costs
// no thread per connection.
//
//   auto ln = goro::net::listen("tcp", "127.0.0.1:0");   // port 0: any free port
//   goro::go([&] {
//     for (;;) {
//       goro::net::Conn c = ln.accept();
//       goro::go([c = std::move(c)]() mutable {            // Go: go handle(c)
//         char buf[4096];
//         while (std::size_t n = c.read(std::span(buf))) c.write(std::string_view(buf, n));
//       });                                                // c closes in its destructor
//     }
//   });
//   goro::net::Conn c = goro::net::dial("tcp", ln.addr().string());
//
// Contract:
// - Networks: listen/dial take "tcp", "tcp4", "tcp6", "unix" (a stream
//   socket at a path; "@name" is Linux's abstract namespace);
//   listen_packet takes "udp", "udp4", "udp6". Addresses are "host:port",
//   "[ipv6]:port", ":port" (listen: every interface; dial: this machine);
//   names are resolved with getaddrinfo inside goro::blocking (Go's cgo
//   resolver path); IP literals are parsed without it. Bad syntax or an
//   unknown network throws std::invalid_argument.
// - Blocking: every operation blocks its caller until done. A goroutine
//   parks (its thread runs other goroutines); a plain thread blocks in
//   poll(2). Every member is callable from goroutines and plain threads.
// - Thread-safety: one goroutine may read while another writes and a third
//   closes or sets deadlines (Go's rule). Concurrent reads (or writes) on one
//   Conn are serialized, not interleaved within a call.
// - Errors are std::system_error. System errors carry the errno
//   (e.code() == std::errc::connection_reset, broken_pipe,
//   connection_refused, …) and what() reads like Go's: "read tcp
//   127.0.0.1:5000->127.0.0.1:41234: Connection reset by peer". End of
//   stream is read() returning 0, as ::read does. A deadline that passed is
//   goro::errc::deadline_exceeded, with "i/o timeout" in what() (Go's
//   text). Using a closed Conn or Listener, or closing it while another
//   goroutine waits in it, gives goro::net::errc::closed ("use of closed
//   network connection"). A Context that is cancelled during dial(ctx, …)
//   gives ctx.err(). SIGPIPE never happens (MSG_NOSIGNAL).
// - Deadlines (Go: SetDeadline): an absolute goro::Clock (steady_clock)
//   time; Clock::time_point{} (the zero time, as in Go) clears it. A
//   deadline applies to every later operation and to the one waiting now;
//   once it has passed, operations fail at once with the timeout (also if
//   data is ready), until it is moved or cleared.
// - Conn, Listener and PacketConn are movable, not copyable, and close in
//   their destructor. close() wakes every goroutine and thread waiting in
//   the object, then returns once they have left it; it throws
//   net::errc::closed if already closed. Do not destroy one while another
//   goroutine still uses it.
// - TCP connections have TCP_NODELAY set, as in Go. listen sets
//   SO_REUSEADDR and the largest backlog the kernel allows
//   (net.core.somaxconn). A Unix listener removes its socket file when closed.
// - accept() under EMFILE/ENFILE (too many open files) does not fail: it
//   waits (5 ms, doubling up to 1 s) and tries again, so a server keeps
//   serving once descriptors are freed (Go's http.Server does the same).
//   close() and the listener's deadline still end it.
//
// Known limits: a plain thread already blocked in an operation sees a new
// deadline only at its next wait (close() does wake it). A socket is
// registered with the poller of the runtime whose goroutine first waited on
// it; goroutines of another live Scheduler use it through a thread in
// goro::blocking.
#pragma once

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "blocking.hpp"
#include "chan.hpp"
#include "context.hpp"
#include "mutex.hpp"
#include "select.hpp"
#include "time.hpp"
#include "wait_fd.hpp"

#if GORO_DEFINE_RUNTIME  // only name resolution's body needs it (config.hpp)
#include <charconv>
#endif

namespace goro::net {

// Errors of goro::net that have no errno.
enum class errc {
  closed = 1,    // Go: net.ErrClosed, "use of closed network connection"
  no_such_host,  // Go: DNSError.IsNotFound, "no such host"
  lookup_failed, // a resolver failure other than "not found"
};

inline const std::error_category& net_category() noexcept {
  struct Category : std::error_category {
    const char* name() const noexcept override { return "goro.net"; }
    std::string message(int c) const override {
      switch (static_cast<errc>(c)) {
        case errc::closed: return "use of closed network connection";
        case errc::no_such_host: return "no such host";
        case errc::lookup_failed: return "name resolution failed";
      }
      return "unknown network error";
    }
  };
  static const Category category;
  return category;
}

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), net_category()}; }

}  // namespace goro::net

template <>
struct std::is_error_code_enum<goro::net::errc> : std::true_type {};

namespace goro::net {

// A network address: a network name ("tcp", "udp", "unix") and a socket
// address. Go: net.Addr (Network, String), TCPAddr, UDPAddr, UnixAddr.
class Addr {
 public:
  Addr() = default;
  Addr(std::string network, const sockaddr* sa, socklen_t len) : network_(std::move(network)), len_(len) {
    std::memcpy(&storage_, sa, goro::detail::min_of<std::size_t>(len, sizeof storage_));
  }

  const std::string& network() const noexcept { return network_; }
  // "127.0.0.1:8080", "[::1]:8080", "/tmp/app.sock", "@abstract".
  std::string string() const {
    const sockaddr* sa = native();
    char host[INET6_ADDRSTRLEN] = "";
    switch (sa->sa_family) {
      case AF_INET: {
        auto* in = reinterpret_cast<const sockaddr_in*>(sa);
        ::inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        return std::string(host) + ":" + std::to_string(ntohs(in->sin_port));
      }
      case AF_INET6: {
        auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
        ::inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        return "[" + std::string(host) + "]:" + std::to_string(ntohs(in6->sin6_port));
      }
      case AF_UNIX: {
        auto* un = reinterpret_cast<const sockaddr_un*>(sa);
        const std::size_t n = len_ > offsetof(sockaddr_un, sun_path) ? len_ - offsetof(sockaddr_un, sun_path) : 0;
        if (n == 0) return "";
        if (un->sun_path[0] == '\0') return "@" + std::string(un->sun_path + 1, n - 1);
        return std::string(un->sun_path, strnlen(un->sun_path, n));
      }
      default: return "";
    }
  }
  // The port (0 for a Unix address).
  int port() const noexcept {
    const sockaddr* sa = native();
    if (sa->sa_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(sa)->sin_port);
    if (sa->sa_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(sa)->sin6_port);
    return 0;
  }
  const sockaddr* native() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
  socklen_t native_size() const noexcept { return len_; }
  bool empty() const noexcept { return len_ == 0; }

 private:
  std::string network_;
  sockaddr_storage storage_{};
  socklen_t len_ = 0;
};

namespace detail {

using goro::detail::PollDesc;
using goro::detail::WaitResult;

// A socket and its poll descriptor. Go: net.netFD + internal/poll.FD.
//
// Invariants: sysfd, family, sotype, network and pd are set at creation and
// constant until the last reference is gone. state = (references << 1) |
// closing: an operation holds a reference while it uses sysfd (Go:
// fdMutex's incref/decref), so the descriptor is closed only when none is
// left and its number cannot be reused under a running operation. rmu and
// wmu serialize readers (and accept) and writers: at most one of each waits
// in pd (its rg and wg). drained and the read-ahead predictor: under rmu.
struct NetFd {
  NetFd(int fd, int fam, int type, std::string net)
      : sysfd(fd), family(fam), sotype(type), network(std::move(net)), pd(goro::detail::poll_cache().get(fd)) {}
  NetFd(const NetFd&) = delete;
  NetFd& operator=(const NetFd&) = delete;
  ~NetFd() {
    if (pd) {  // never closed (a failed dial): release without waiting
      goro::detail::pd_deregister(pd);
      ::close(sysfd);
      goro::detail::poll_cache().put(pd);
    }
  }

  int sysfd;
  int family;
  int sotype;
  std::string network;  // "tcp", "udp", "unix"
  PollDesc* pd;
  std::atomic<std::uint64_t> state{0};
  goro::detail::Sema csema{0};  // the closer waits here for the last reference
  Mutex rmu;
  Mutex wmu;
  // The last read of this TCP stream was short (see Conn::read_some).
  bool drained = false;
  // Whether bytes tend to arrive between a short read and the next one
  // (Conn::read_some): refill > 0 predicts they do (0..3, up on a read that
  // found bytes, down on one that found none); at 0, probe_in counts the
  // reads that wait first before the next one tries, probe_gap apart.
  std::uint8_t refill = 0;
  std::uint8_t probe_in = 0;
  std::uint8_t probe_gap = 1;
  std::string unlink_path;      // a Unix listener's socket file
  Chan<std::monostate> closed;  // closed by close(): ends accept's back-off

  bool incref() noexcept {
    // Memory ordering: acquire — an operation that got in sees what the
    // creator (or an earlier deadline setter) wrote; fails once closing.
    std::uint64_t s = state.load(std::memory_order_acquire);
    do {
      if (s & 1) return false;
    } while (!state.compare_exchange_weak(s, s + 2, std::memory_order_acq_rel, std::memory_order_acquire));
    return true;
  }
  void decref() {
    // Memory ordering: acq_rel — the last operation's use of sysfd happens
    // before the closer closes it.
    if (state.fetch_sub(2, std::memory_order_acq_rel) == 3) csema.release(false);
  }

  // "tcp 127.0.0.1:5000->127.0.0.1:41234" (as much as is known).
  std::string describe(bool with_peer = true) const {
    std::string s = network;
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(sysfd, reinterpret_cast<sockaddr*>(&ss), &len) == 0)
      s += " " + Addr(network, reinterpret_cast<sockaddr*>(&ss), len).string();
    len = sizeof ss;
    if (with_peer && ::getpeername(sysfd, reinterpret_cast<sockaddr*>(&ss), &len) == 0)
      s += "->" + Addr(network, reinterpret_cast<sockaddr*>(&ss), len).string();
    return s;
  }

  // Go: FD.Close. Throws errc::closed if already closed.
  void close(const char* what) {
    const std::uint64_t s = state.fetch_or(1, std::memory_order_acq_rel);
    if (s & 1) throw std::system_error(errc::closed, std::string(what) + " " + network);
    goro::detail::pd_evict(pd);
    if (!closed.is_nil()) closed.close();
    // Memory ordering: seq_cst — pairs with poll_wait's increment (wait_fd.hpp).
    if (pd->plain_waiters.load(std::memory_order_seq_cst) > 0) ::shutdown(sysfd, SHUT_RDWR);  // wakes poll(2)
    if ((s >> 1) != 0) {
      csema.acquire(false, goro::detail::WaitReason::semaphore);
      // Memory ordering: acquire — reads what the last decref's fetch_sub
      // wrote, so every operation's use of sysfd and pd happens before the
      // teardown below. (The semaphore's hand-off orders it too, but it is
      // runtime-internal, which ThreadSanitizer does not see: race.hpp.)
      (void)state.load(std::memory_order_acquire);
    }
    goro::detail::pd_deregister(pd);
    ::close(sysfd);
    goro::detail::poll_cache().put(pd);
    pd = nullptr;
    if (!unlink_path.empty()) ::unlink(unlink_path.c_str());
  }
};

// An operation's reference (see NetFd::state).
class FdRef {
 public:
  FdRef(NetFd* fd, const char* op) : fd_(fd) {
    if (!fd_ || !fd_->incref())
      throw std::system_error(errc::closed, std::string(op) + (fd_ ? " " + fd_->network : std::string()));
  }
  ~FdRef() { fd_->decref(); }
  FdRef(const FdRef&) = delete;
  FdRef& operator=(const FdRef&) = delete;

 private:
  NetFd* fd_;
};

[[noreturn]] inline void throw_op(NetFd* fd, const char* op, int err, bool with_peer = true) {
  throw std::system_error(err, std::system_category(), std::string(op) + " " + fd->describe(with_peer));
}

[[noreturn]] inline void throw_wait(NetFd* fd, const char* op, WaitResult r, bool with_peer = true) {
  if (r == WaitResult::timeout)
    throw std::system_error(goro::errc::deadline_exceeded, std::string(op) + " " + fd->describe(with_peer) + ": i/o timeout");
  throw std::system_error(errc::closed, std::string(op) + " " + fd->describe(with_peer));
}

// Waits for fd in mode; throws on a deadline or close.
inline void wait_io(NetFd* fd, int mode, const char* op, bool with_peer = true) {
  const WaitResult r = goro::detail::fd_wait(fd->pd, mode, [] { return WaitResult::ready; });
  if (r != WaitResult::ready) throw_wait(fd, op, r, with_peer);
}

// Go: prepareRead/prepareWrite: closed or past the deadline fails at once.
inline void prepare(NetFd* fd, int mode, const char* op, bool with_peer = true) {
  const WaitResult r = goro::detail::pd_check(fd->pd, mode);
  if (r != WaitResult::ready) throw_wait(fd, op, r, with_peer);
}

inline void set_deadline(NetFd* fd, int mode, Clock::time_point t) {
  FdRef ref(fd, "set deadline");
  const std::int64_t ns = t == Clock::time_point{} ? 0 : goro::detail::deadline_ns(t);
  goro::detail::pd_set_deadline(fd->pd, mode, ns);
}

// ---------------------------------------------------------------------------
// Addresses and name resolution.

struct Network {
  int family;     // AF_UNSPEC, AF_INET, AF_INET6, AF_UNIX
  int sotype;     // SOCK_STREAM, SOCK_DGRAM
  const char* base;  // "tcp", "udp", "unix"
};

// Parsing and resolution are compiled once, in the runtime's TU, under
// GORO_SEPARATE_COMPILATION (config.hpp); a user's TU sees these.
#if !GORO_DEFINE_RUNTIME
Network parse_network(std::string_view net, bool packet, const char* fn);
std::pair<std::string, std::string> split_host_port(std::string_view addr, const char* fn);
std::vector<Addr> resolve(const Network& n, std::string_view address, bool passive, const char* fn);
#else
GORO_DECL Network parse_network(std::string_view net, bool packet, const char* fn) {
  if (!packet) {
    if (net == "tcp") return {AF_UNSPEC, SOCK_STREAM, "tcp"};
    if (net == "tcp4") return {AF_INET, SOCK_STREAM, "tcp"};
    if (net == "tcp6") return {AF_INET6, SOCK_STREAM, "tcp"};
    if (net == "unix") return {AF_UNIX, SOCK_STREAM, "unix"};
  } else {
    if (net == "udp") return {AF_UNSPEC, SOCK_DGRAM, "udp"};
    if (net == "udp4") return {AF_INET, SOCK_DGRAM, "udp"};
    if (net == "udp6") return {AF_INET6, SOCK_DGRAM, "udp"};
  }
  throw std::invalid_argument(std::string(fn) + ": unknown network \"" + std::string(net) + "\"" +
                              (packet ? " (want udp, udp4 or udp6)" : " (want tcp, tcp4, tcp6 or unix)"));
}

// Go: net.SplitHostPort.
GORO_DECL std::pair<std::string, std::string> split_host_port(std::string_view addr, const char* fn) {
  auto bad = [&](const char* why) {
    return std::invalid_argument(std::string(fn) + ": address " + std::string(addr) + ": " + why);
  };
  std::string_view host, port;
  if (!addr.empty() && addr.front() == '[') {
    const auto close = addr.find(']');
    if (close == std::string_view::npos) throw bad("missing ']' in address");
    if (close + 1 >= addr.size() || addr[close + 1] != ':') throw bad("missing port in address");
    host = addr.substr(1, close - 1);
    port = addr.substr(close + 2);
  } else {
    const auto colon = addr.rfind(':');
    if (colon == std::string_view::npos) throw bad("missing port in address");
    host = addr.substr(0, colon);
    if (host.find(':') != std::string_view::npos) throw bad("too many colons in address");
    port = addr.substr(colon + 1);
  }
  if (port.empty()) throw bad("missing port in address");
  return {std::string(host), std::string(port)};
}

// Resolves an address for a socket of kind `n`. passive: for listen (an
// empty host is every interface); else an empty host is this machine.
// Several results are tried in order by dial.
GORO_DECL std::vector<Addr> resolve(const Network& n, std::string_view address, bool passive, const char* fn) {
  std::vector<Addr> out;
  if (n.family == AF_UNIX) {
    if (address.empty()) throw std::invalid_argument(std::string(fn) + ": empty Unix socket path");
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    if (address.size() >= sizeof un.sun_path)
      throw std::invalid_argument(std::string(fn) + ": Unix socket path too long: " + std::string(address));
    std::memcpy(un.sun_path, address.data(), address.size());
    if (address.front() == '@') un.sun_path[0] = '\0';  // abstract
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.size() +
                                            (address.front() == '@' ? 0 : 1));
    out.emplace_back(n.base, reinterpret_cast<sockaddr*>(&un), len);
    return out;
  }
  std::pair<std::string, std::string> host_port = split_host_port(address, fn);
  const std::string& host = host_port.first;
  const std::string& port_s = host_port.second;
  int port = -1;
  {
    // A decimal int is a port number; anything else is a service name for
    // getaddrinfo.
    int v = 0;
    const char* end = port_s.data() + port_s.size();
    const auto [ptr, ec] = std::from_chars(port_s.data(), end, v);
    if (ec == std::errc{} && ptr == end) {
      if (v < 0 || v > 65535) throw std::invalid_argument(std::string(fn) + ": invalid port " + port_s);
      port = v;
    } else if (ec == std::errc::result_out_of_range && ptr == end) {
      throw std::invalid_argument(std::string(fn) + ": invalid port " + port_s);
    }
  }
  auto add_v4 = [&](const in_addr& a, int p) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(static_cast<std::uint16_t>(p));
    in.sin_addr = a;
    out.emplace_back(n.base, reinterpret_cast<sockaddr*>(&in), static_cast<socklen_t>(sizeof in));
  };
  auto add_v6 = [&](const in6_addr& a, int p) {
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(static_cast<std::uint16_t>(p));
    in6.sin6_addr = a;
    out.emplace_back(n.base, reinterpret_cast<sockaddr*>(&in6), static_cast<socklen_t>(sizeof in6));
  };
  if (port >= 0) {
    // Literals and the empty host need no resolver.
    in_addr a4{};
    in6_addr a6{};
    if (host.empty()) {
      if (passive) {
        if (n.family != AF_INET) add_v6(in6addr_any, port);  // dual stack for "tcp"
        if (n.family != AF_INET6) {
          a4.s_addr = htonl(INADDR_ANY);
          add_v4(a4, port);
        }
      } else {
        if (n.family != AF_INET6) {
          a4.s_addr = htonl(INADDR_LOOPBACK);
          add_v4(a4, port);
        }
        if (n.family != AF_INET) add_v6(in6addr_loopback, port);
      }
      return out;
    }
    if (::inet_pton(AF_INET, host.c_str(), &a4) == 1) {
      if (n.family == AF_INET6) throw std::invalid_argument(std::string(fn) + ": " + host + " is not an IPv6 address");
      add_v4(a4, port);
      return out;
    }
    if (::inet_pton(AF_INET6, host.c_str(), &a6) == 1) {
      if (n.family == AF_INET) throw std::invalid_argument(std::string(fn) + ": " + host + " is not an IPv4 address");
      add_v6(a6, port);
      return out;
    }
  }
  // A name (or a service name for the port): getaddrinfo, which blocks.
  addrinfo hints{};
  hints.ai_family = n.family;
  hints.ai_socktype = n.sotype;
  hints.ai_flags = AI_ADDRCONFIG | (passive && host.empty() ? AI_PASSIVE : 0);
  addrinfo* res = nullptr;
  const int rc = goro::blocking([&] {
    return ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port_s.c_str(), &hints, &res);
  });
  if (rc != 0) {
    const std::string what = "lookup " + (host.empty() ? port_s : host);
    if (rc == EAI_SYSTEM) throw std::system_error(errno, std::system_category(), what);
    if (rc == EAI_NONAME || rc == EAI_NODATA || rc == EAI_SERVICE) throw std::system_error(errc::no_such_host, what);
    throw std::system_error(errc::lookup_failed, what + ": " + ::gai_strerror(rc));
  }
  for (addrinfo* ai = res; ai; ai = ai->ai_next)
    if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6) out.emplace_back(n.base, ai->ai_addr, ai->ai_addrlen);
  ::freeaddrinfo(res);
  if (out.empty()) throw std::system_error(errc::no_such_host, "lookup " + host);
  return out;
}
#endif  // GORO_DEFINE_RUNTIME

// Sets up the caller's runtime's poller now, if called from a goroutine: a
// server that accepts until descriptors run out must not need a new one
// (epoll_create) for its first wait.
inline void ensure_poller() {
  if (goro::detail::G* g = goro::detail::current_g()) {
    goro::detail::netpoll_get(g->rt);
    goro::detail::ensure_monitor(g->rt);
  }
}

inline void set_nodelay(int fd) {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

inline int listen_backlog() {
  static const int n = [] {
    int v = SOMAXCONN;
    if (FILE* f = std::fopen("/proc/sys/net/core/somaxconn", "r")) {
      if (std::fscanf(f, "%d", &v) != 1 || v <= 0) v = SOMAXCONN;
      std::fclose(f);
    }
    return goro::detail::min_of(v, 65535);
  }();
  return n;
}

inline std::unique_ptr<NetFd> new_socket(const Addr& a, int sotype, const char* op, std::string_view address) {
  const int s = ::socket(a.native()->sa_family, sotype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s < 0)
    throw std::system_error(errno, std::system_category(),
                            std::string(op) + " " + a.network() + " " + std::string(address) + ": socket");
  return std::make_unique<NetFd>(s, a.native()->sa_family, sotype, a.network());
}

// What Conn, Listener and PacketConn share: the sole ownership of a socket,
// closed (waking whoever waits in it) when the handle is destroyed or
// assigned over. Movable, not copyable; a moved-from or default handle is
// closed: every operation throws errc::closed.
class FdHandle {
 public:
  FdHandle() = default;
  explicit FdHandle(std::unique_ptr<NetFd> fd) noexcept : fd_(std::move(fd)) {}
  FdHandle(FdHandle&&) noexcept = default;
  FdHandle& operator=(FdHandle&& o) noexcept {
    if (this != &o) {
      release();
      fd_ = std::move(o.fd_);
    }
    return *this;
  }
  ~FdHandle() { release(); }

  // Closes the socket (see the contract at the top). Go: Close.
  void close() {
    if (!fd_) throw std::system_error(net::errc::closed, "close");
    fd_->close("close");
  }

  // The socket's descriptor (owned by the handle), or -1.
  int native_handle() const noexcept { return fd_ ? fd_->sysfd : -1; }
  explicit operator bool() const noexcept { return fd_ != nullptr; }

 protected:
  // Deadlines for reads, writes or both (Conn and PacketConn make them public).
  void set_deadline(Clock::time_point t) {
    set_read_deadline(t);
    set_write_deadline(t);
  }
  void set_read_deadline(Clock::time_point t) { detail::set_deadline(fd_.get(), 'r', t); }
  void set_write_deadline(Clock::time_point t) { detail::set_deadline(fd_.get(), 'w', t); }

  // The socket's own address, or its peer's; empty if it has none.
  Addr sock_addr(bool peer, const char* op) const {
    FdRef ref(fd_.get(), op);
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    const int rc = peer ? ::getpeername(fd_->sysfd, reinterpret_cast<sockaddr*>(&ss), &len)
                        : ::getsockname(fd_->sysfd, reinterpret_cast<sockaddr*>(&ss), &len);
    if (rc != 0) return Addr();
    return Addr(fd_->network, reinterpret_cast<sockaddr*>(&ss), len);
  }

  std::unique_ptr<NetFd> fd_;

 private:
  void release() noexcept {
    if (!fd_) return;
    // Memory ordering: acquire — a close that won (state bit 0) is complete.
    if (!(fd_->state.load(std::memory_order_acquire) & 1)) {
      try {
        fd_->close("close");
      } catch (...) {
      }
    }
    fd_.reset();
  }
};

}  // namespace detail

class Listener;
class PacketConn;

// A stream connection (Go: net.Conn, TCPConn, UnixConn). See the contract
// at the top of this header.
class Conn : public detail::FdHandle {
 public:
  Conn() = default;  // not connected: every operation throws errc::closed
  explicit Conn(std::unique_ptr<detail::NetFd> fd) noexcept : FdHandle(std::move(fd)) {}

  // Reads what is there, up to buf.size() bytes, waiting until something
  // is. Returns 0 at end of stream (the peer closed or shut down writing),
  // or for an empty buf. Go: Conn.Read.
  std::size_t read(std::span<std::byte> buf) { return read_some(buf.data(), buf.size()); }
  std::size_t read(std::span<char> buf) { return read_some(buf.data(), buf.size()); }

  // Reads until buf is full or the stream ends; returns the bytes read
  // (less than buf.size() only at end of stream). Go: io.ReadFull.
  std::size_t read_full(std::span<std::byte> buf) { return read_full_impl(buf.data(), buf.size()); }
  std::size_t read_full(std::span<char> buf) { return read_full_impl(buf.data(), buf.size()); }

  // Writes all of data, waiting as the socket buffer drains, or throws.
  // Go: Conn.Write.
  void write(std::span<const std::byte> data) { write_all(data.data(), data.size()); }
  void write(std::string_view data) { write_all(data.data(), data.size()); }

  // Half-close: the peer reads end of stream; this side can still read.
  // Go: TCPConn.CloseWrite.
  void shutdown_write() {
    detail::FdRef ref(fd_.get(), "shutdown");
    if (::shutdown(fd_->sysfd, SHUT_WR) != 0) detail::throw_op(fd_.get(), "shutdown", errno);
  }

  // Go: SetDeadline, SetReadDeadline, SetWriteDeadline.
  using FdHandle::set_deadline;
  using FdHandle::set_read_deadline;
  using FdHandle::set_write_deadline;

  Addr local_addr() const { return sock_addr(false, "local address"); }
  Addr remote_addr() const { return sock_addr(true, "remote address"); }

 private:

  std::size_t read_some(void* buf, std::size_t n) {
    detail::NetFd* fd = fd_.get();
    detail::FdRef ref(fd, "read");
    std::lock_guard<Mutex> lock(fd->rmu);
    detail::prepare(fd, 'r', "read");
    if (n == 0) return 0;
    // A short read of a TCP socket emptied its receive queue (the kernel
    // copies everything queued, up to n). Whether the next read should try
    // recv first, as Go does, or wait for readiness first depends on the
    // traffic. In a request-response exchange the socket is still empty,
    // and a recv would fail with EAGAIN (a third of the system calls); in
    // a stream, bytes keep arriving while the reader works (the echo's
    // write, say), and a wait that parks until the poller reports them
    // costs a switch and a poll where a recv would have found them. So the
    // read predicts from the past: refill > 0 (bytes were found after
    // short reads) tries recv first; at 0 it waits first, except that
    // every probe_gap-th such read tries anyway (the gap doubles up to 64
    // while they find nothing), so that a connection that turns into a
    // stream is noticed. Waiting first is sound because bytes that arrived
    // since are an edge-triggered event, which the poll descriptor keeps
    // until this wait: it returns at once. The exceptions are what a read
    // finds with no later event — the peer's end of stream or an error,
    // and urgent data, at whose mark a read stops with bytes still queued:
    // once an event announced any of them (PollDesc::sticky_read, set
    // before the event wakes anyone), every read is tried first. (Unix
    // stream sockets are left out: a read stops at passed descriptors and
    // credentials too.) Plain threads wait in poll(2), which sees queued
    // bytes whatever the reason.
    // Memory ordering: relaxed — an event that set sticky_read was either
    // consumed by an earlier wait of this reader, whose wake-up
    // (pd_unblock's CAS) published the store, or it is still to come and
    // ends the wait below.
    bool probe = false;
    if (std::exchange(fd->drained, false) && !fd->pd->sticky_read.load(std::memory_order_relaxed)) {
      if (fd->refill > 0 || fd->probe_in == 0) {
        probe = true;
      } else {
        --fd->probe_in;
        detail::wait_io(fd, 'r', "read");
      }
    }
    for (;;) {
      // recv, not read: a socket needs none of read(2)'s file-position layer.
      const ssize_t r = ::recv(fd->sysfd, buf, n, 0);
      if (r >= 0) {
        if (probe) {  // bytes came after the short read
          fd->refill = static_cast<std::uint8_t>(goro::detail::min_of(fd->refill + 1, 3));
          fd->probe_gap = 1;
        }
        fd->drained = r > 0 && static_cast<std::size_t>(r) < n && fd->sotype == SOCK_STREAM && fd->family != AF_UNIX;
        return static_cast<std::size_t>(r);
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN) detail::throw_op(fd, "read", errno);
      if (std::exchange(probe, false)) {  // none came: predict less
        if (fd->refill > 0) {
          --fd->refill;
        } else {
          fd->probe_gap = static_cast<std::uint8_t>(goro::detail::min_of(fd->probe_gap * 2, 64));
        }
        fd->probe_in = fd->probe_gap;
      }
      detail::wait_io(fd, 'r', "read");
    }
  }

  std::size_t read_full_impl(void* buf, std::size_t n) {
    auto* p = static_cast<char*>(buf);
    std::size_t got = 0;
    while (got < n) {
      const std::size_t r = read_some(p + got, n - got);
      if (r == 0) break;
      got += r;
    }
    return got;
  }

  void write_all(const void* data, std::size_t n) {
    detail::NetFd* fd = fd_.get();
    detail::FdRef ref(fd, "write");
    std::lock_guard<Mutex> lock(fd->wmu);
    detail::prepare(fd, 'w', "write");
    const auto* p = static_cast<const char*>(data);
    std::size_t done = 0;
    while (done < n) {
      const ssize_t r = ::send(fd->sysfd, p + done, n - done, MSG_NOSIGNAL);
      if (r >= 0) {
        done += static_cast<std::size_t>(r);
        continue;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN) detail::throw_op(fd, "write", errno);
      detail::wait_io(fd, 'w', "write");
    }
  }
};

// A stream listener (Go: net.Listener, TCPListener, UnixListener).
class Listener : public detail::FdHandle {
 public:
  Listener() = default;
  explicit Listener(std::unique_ptr<detail::NetFd> fd) noexcept : FdHandle(std::move(fd)) {}

  // Waits for and returns the next connection. Under EMFILE/ENFILE it
  // backs off and retries (see the contract). Go: Listener.Accept.
  Conn accept() {
    detail::NetFd* fd = fd_.get();
    detail::FdRef ref(fd, "accept");
    detail::ensure_poller();
    std::lock_guard<Mutex> lock(fd->rmu);
    auto backoff = std::chrono::milliseconds(0);
    for (;;) {
      detail::prepare(fd, 'r', "accept", false);
      sockaddr_storage ss{};
      socklen_t len = sizeof ss;
      const int s = ::accept4(fd->sysfd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (s >= 0) {
        if (fd->network == "tcp") detail::set_nodelay(s);
        return Conn(std::make_unique<detail::NetFd>(s, fd->family, SOCK_STREAM, fd->network));
      }
      switch (errno) {
        case EINTR:
        case ECONNABORTED:  // the peer gave up before we took it (Go retries too)
          continue;
        case EAGAIN:
          detail::wait_io(fd, 'r', "accept", false);
          continue;
        case EMFILE:
        case ENFILE:
        case ENOBUFS:
        case ENOMEM:
          // 5 ms, doubling to 1 s, as Go's accept loop in net/http.
          backoff = goro::detail::min_of<std::chrono::milliseconds>(
              backoff.count() == 0 ? std::chrono::milliseconds(5) : backoff * 2, std::chrono::milliseconds(1000));
          sleep_or_close(fd, backoff);
          continue;
        default:
          detail::throw_op(fd, "accept", errno, false);
      }
    }
  }

  // The address it listens on (with the port chosen for port 0).
  Addr addr() const { return sock_addr(false, "address"); }

  // close() (FdHandle): a goroutine waiting in accept() gets errc::closed.

  // A deadline for accept() (Go: TCPListener.SetDeadline).
  void set_deadline(Clock::time_point t) { detail::set_deadline(fd_.get(), 'r', t); }


 private:
  // The EMFILE back-off: sleeps d, or less if the listener is closed or
  // its deadline comes first.
  static void sleep_or_close(detail::NetFd* fd, std::chrono::milliseconds d) {
    const std::int64_t dl = fd->pd->rd.load(std::memory_order_seq_cst);
    auto wait = std::chrono::duration_cast<Clock::duration>(d);
    if (dl != 0)
      wait = goro::detail::min_of<Clock::duration>(
          wait, std::chrono::nanoseconds(goro::detail::max_of<std::int64_t>(0, dl - goro::detail::nanotime())));
    select(on_recv(after(wait), [](auto&&) {}), on_recv(fd->closed, [](auto&&) {}));
  }
};

// A packet (datagram) socket (Go: net.PacketConn, UDPConn).
class PacketConn : public detail::FdHandle {
 public:
  PacketConn() = default;
  explicit PacketConn(std::unique_ptr<detail::NetFd> fd) noexcept : FdHandle(std::move(fd)) {}

  // Waits for one datagram; returns its size (truncated to buf.size()) and
  // its sender. Go: ReadFrom.
  std::pair<std::size_t, Addr> read_from(std::span<std::byte> buf) { return read_from_impl(buf.data(), buf.size()); }
  std::pair<std::size_t, Addr> read_from(std::span<char> buf) { return read_from_impl(buf.data(), buf.size()); }

  // Sends data as one datagram to `to`. Go: WriteTo.
  void write_to(std::span<const std::byte> data, const Addr& to) { write_to_impl(data.data(), data.size(), to); }
  void write_to(std::string_view data, const Addr& to) { write_to_impl(data.data(), data.size(), to); }

  // Go: SetDeadline, SetReadDeadline, SetWriteDeadline.
  using FdHandle::set_deadline;
  using FdHandle::set_read_deadline;
  using FdHandle::set_write_deadline;

  Addr local_addr() const { return sock_addr(false, "local address"); }

 private:
  std::pair<std::size_t, Addr> read_from_impl(void* buf, std::size_t n) {
    detail::NetFd* fd = fd_.get();
    detail::FdRef ref(fd, "read");
    std::lock_guard<Mutex> lock(fd->rmu);
    detail::prepare(fd, 'r', "read", false);
    for (;;) {
      sockaddr_storage ss{};
      socklen_t len = sizeof ss;
      const ssize_t r = ::recvfrom(fd->sysfd, buf, n, MSG_TRUNC, reinterpret_cast<sockaddr*>(&ss), &len);
      if (r >= 0) {
        // MSG_TRUNC: r is the datagram's full length; at most n were copied.
        const std::size_t copied = goro::detail::min_of(static_cast<std::size_t>(r), n);
        return {copied, Addr(fd->network, reinterpret_cast<sockaddr*>(&ss), len)};
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN) detail::throw_op(fd, "read", errno, false);
      detail::wait_io(fd, 'r', "read", false);
    }
  }

  void write_to_impl(const void* data, std::size_t n, const Addr& to) {
    detail::NetFd* fd = fd_.get();
    detail::FdRef ref(fd, "write");
    std::lock_guard<Mutex> lock(fd->wmu);
    detail::prepare(fd, 'w', "write", false);
    for (;;) {
      const ssize_t r = ::sendto(fd->sysfd, data, n, MSG_NOSIGNAL, to.native(), to.native_size());
      if (r >= 0) return;
      if (errno == EINTR) continue;
      if (errno != EAGAIN) detail::throw_op(fd, "write", errno, false);
      detail::wait_io(fd, 'w', "write", false);
    }
  }

};

// Compiled once, in the runtime's TU, under GORO_SEPARATE_COMPILATION
// (config.hpp); a user's TU sees these declarations.
#if !GORO_DEFINE_RUNTIME
Listener listen(std::string_view network, std::string_view address);
PacketConn listen_packet(std::string_view network, std::string_view address);
Addr resolve_addr(std::string_view network, std::string_view address);
namespace detail {
Conn dial_impl(const Context* ctx, std::string_view network, std::string_view address);
}  // namespace detail
#else
// Go: net.Listen(network, address). "tcp", "tcp4", "tcp6" or "unix".
GORO_DECL Listener listen(std::string_view network, std::string_view address) {
  const detail::Network n = detail::parse_network(network, false, "goro::net::listen");
  detail::ensure_poller();
  const std::vector<Addr> addrs = detail::resolve(n, address, true, "goro::net::listen");
  const std::string op = "listen " + std::string(n.base) + " " + std::string(address);
  int last_err = 0;
  for (const Addr& a : addrs) {
    std::unique_ptr<detail::NetFd> fd;
    try {
      fd = detail::new_socket(a, SOCK_STREAM, "listen", address);
    } catch (const std::system_error& e) {
      last_err = e.code().value();
      continue;  // e.g. no IPv6: try the next address
    }
    const int one = 1;
    if (a.native()->sa_family != AF_UNIX) ::setsockopt(fd->sysfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (a.native()->sa_family == AF_INET6) {
      const int v6only = n.family == AF_INET6 ? 1 : 0;  // "tcp" on [::] takes IPv4 too, as in Go
      ::setsockopt(fd->sysfd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
    }
    if (::bind(fd->sysfd, a.native(), a.native_size()) != 0) {
      last_err = errno;
      if (&a != &addrs.back()) continue;
      throw std::system_error(last_err, std::system_category(), op + ": bind");
    }
    if (::listen(fd->sysfd, detail::listen_backlog()) != 0)
      throw std::system_error(errno, std::system_category(), op + ": listen");
    if (a.native()->sa_family == AF_UNIX && address.front() != '@') fd->unlink_path = std::string(address);
    fd->closed = Chan<std::monostate>(0);
    return Listener(std::move(fd));
  }
  throw std::system_error(last_err, std::system_category(), op);
}

// Go: net.ListenPacket(network, address). "udp", "udp4" or "udp6".
GORO_DECL PacketConn listen_packet(std::string_view network, std::string_view address) {
  const detail::Network n = detail::parse_network(network, true, "goro::net::listen_packet");
  detail::ensure_poller();
  const std::vector<Addr> addrs = detail::resolve(n, address, true, "goro::net::listen_packet");
  const std::string op = "listen " + std::string(n.base) + " " + std::string(address);
  int last_err = 0;
  for (const Addr& a : addrs) {
    std::unique_ptr<detail::NetFd> fd;
    try {
      fd = detail::new_socket(a, SOCK_DGRAM, "listen", address);
    } catch (const std::system_error& e) {
      last_err = e.code().value();
      continue;
    }
    if (a.native()->sa_family == AF_INET6) {
      const int v6only = n.family == AF_INET6 ? 1 : 0;
      ::setsockopt(fd->sysfd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
    }
    if (::bind(fd->sysfd, a.native(), a.native_size()) != 0) {
      last_err = errno;
      if (&a != &addrs.back()) continue;
      throw std::system_error(last_err, std::system_category(), op + ": bind");
    }
    return PacketConn(std::move(fd));
  }
  throw std::system_error(last_err, std::system_category(), op);
}

// Go: net.ResolveUDPAddr / ResolveTCPAddr: the first address for
// (network, address), e.g. for PacketConn::write_to.
GORO_DECL Addr resolve_addr(std::string_view network, std::string_view address) {
  const bool packet = network.substr(0, 3) == "udp";
  const detail::Network n = detail::parse_network(network, packet, "goro::net::resolve_addr");
  return detail::resolve(n, address, false, "goro::net::resolve_addr").front();
}

namespace detail {

// Connects to each address in turn; the first that answers wins. ctx (may
// be null) can end it. Go: sysDialer.dialSerial + netFD.connect.
GORO_DECL Conn dial_impl(const Context* ctx, std::string_view network, std::string_view address) {
  const Network n = parse_network(network, false, "goro::net::dial");
  ensure_poller();
  const std::string op = "dial " + std::string(n.base) + " " + std::string(address);
  if (ctx && ctx->err()) throw std::system_error(ctx->err(), op);
  const std::vector<Addr> addrs = resolve(n, address, false, "goro::net::dial");
  std::error_code last;
  for (const Addr& a : addrs) {
    std::unique_ptr<NetFd> fd = new_socket(a, SOCK_STREAM, "dial", address);
    if (n.family != AF_UNIX) set_nodelay(fd->sysfd);
    int rc = ::connect(fd->sysfd, a.native(), a.native_size());
    int err = rc == 0 ? 0 : errno;
    if (err == EINPROGRESS || err == EINTR || err == EAGAIN) {
      std::unique_ptr<goro::detail::CtxWatch> watch;
      if (ctx) watch = std::make_unique<goro::detail::CtxWatch>(*ctx, fd->pd, 'w');
      for (;;) {
        auto extra = [&] { return watch ? watch->check() : WaitResult::ready; };
        const WaitResult r = goro::detail::fd_wait(fd->pd, 'w', extra, watch ? watch->hook() : nullptr);
        if (r == WaitResult::canceled && ctx) {
          const std::error_code e = ctx->err();
          watch.reset();
          throw std::system_error(e, op + (e == goro::errc::deadline_exceeded ? ": i/o timeout" : ": operation was canceled"));
        }
        if (r != WaitResult::ready) {
          watch.reset();
          throw_wait(fd.get(), "dial", r);
        }
        int so_err = 0;
        socklen_t len = sizeof so_err;
        ::getsockopt(fd->sysfd, SOL_SOCKET, SO_ERROR, &so_err, &len);
        if (so_err == EINPROGRESS || so_err == EALREADY || so_err == EINTR) continue;
        if (so_err == 0) {
          sockaddr_storage ss{};
          socklen_t sl = sizeof ss;
          if (::getpeername(fd->sysfd, reinterpret_cast<sockaddr*>(&ss), &sl) != 0 && errno == ENOTCONN) continue;
        }
        err = so_err;
        break;
      }
    }
    if (err == 0) return Conn(std::move(fd));
    last = std::error_code(err, std::system_category());
  }
  throw std::system_error(last, op + ": connect");
}

}  // namespace detail
#endif  // GORO_DEFINE_RUNTIME

// Go: net.Dial(network, address). "tcp", "tcp4", "tcp6" or "unix".
inline Conn dial(std::string_view network, std::string_view address) {
  return detail::dial_impl(nullptr, network, address);
}

// Go: net.Dialer.DialContext: also ends when ctx is done (then throws
// ctx.err(): errc::canceled, or errc::deadline_exceeded with "i/o timeout").
inline Conn dial(const Context& ctx, std::string_view network, std::string_view address) {
  return detail::dial_impl(&ctx, network, address);
}

}  // namespace goro::net
