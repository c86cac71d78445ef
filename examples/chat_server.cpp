// chat_server — Go's broadcast chat server ("The Go Programming Language",
// §8.10): a goroutine per client, one broadcaster goroutine that owns the
// set of clients, and channels between them.
//
//   func broadcaster() {
//     clients := make(map[client]bool)
//     for { select {
//       case msg := <-messages: for cli := range clients { cli <- msg }
//       case cli := <-entering: clients[cli] = true
//       case cli := <-leaving:  delete(clients, cli); close(cli) } }
//   }
//   func handleConn(conn net.Conn) {
//     ch := make(chan string); go clientWriter(conn, ch)
//     entering <- ch; messages <- who + " has arrived"
//     for input.Scan() { messages <- who + ": " + input.Text() }
//     leaving <- ch; messages <- who + " has left"; conn.Close()
//   }
//
// What to notice:
// - Only the broadcaster touches the client set: no mutex, channels only.
// - Each client has a writer goroutine, so one slow client cannot stall the
//   broadcaster beyond its channel's buffer.
// - A client leaves cleanly: its reader sees end of stream, tells the
//   broadcaster, which closes the client's channel, which ends its writer.
//
//   example_chat_server [--addr 127.0.0.1:8000]   serve until killed (try: nc 127.0.0.1 8000)
//   example_chat_server --demo                    three bots chat, leave, and the server exits
#include <goro/goro.hpp>

#include <cstdio>
#include <vector>
#include <string>
#include <string_view>

using Client = goro::Chan<std::string>;  // outgoing messages of one client

struct Chat {
  goro::Chan<Client> entering{0}, leaving{0};
  goro::Chan<std::string> messages{0};
};

void broadcaster(Chat chat) {
  std::vector<Client> owned;  // Go: clients
  for (;;) {
    goro::select(
        goro::on_recv(chat.messages, [&](std::optional<std::string> msg) {
          for (Client& c : owned) c.send(*msg);
        }),
        goro::on_recv(chat.entering, [&](std::optional<Client> c) { owned.push_back(*c); }),
        goro::on_recv(chat.leaving, [&](std::optional<Client> c) {
          if (!c) return;  // never closed; the check keeps GCC 12 -O2 from a false warning
          for (auto it = owned.begin(); it != owned.end(); ++it)
            if (*it == *c) {
              it->close();
              owned.erase(it);
              break;
            }
        }));
  }
}

void client_writer(goro::net::Conn& conn, Client ch) {
  for (const std::string& msg : ch) {
    try {
      conn.write(msg + "\n");
    } catch (const std::system_error&) {
    }
  }
}

void handle_conn(Chat chat, goro::net::Conn conn) {
  Client ch(16);
  goro::WaitGroup writer;
  writer.go([&conn, ch] { client_writer(conn, ch); });
  const std::string who = conn.remote_addr().string();
  chat.entering.send(ch);
  chat.messages.send(who + " has arrived");
  std::string pending;
  char buf[512];
  try {
    while (std::size_t n = conn.read(std::span(buf))) {
      pending.append(buf, n);
      for (std::size_t nl; (nl = pending.find('\n')) != std::string::npos; pending.erase(0, nl + 1))
        chat.messages.send(who + ": " + pending.substr(0, nl));
    }
  } catch (const std::system_error&) {
  }
  chat.leaving.send(ch);
  chat.messages.send(who + " has left");
  writer.wait();  // the broadcaster closed ch: the writer is done with conn
}

int main(int argc, char** argv) {
  std::string addr = "127.0.0.1:8000";
  bool demo = false;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--demo") demo = true;
    else if (std::string_view(argv[i]) == "--addr" && i + 1 < argc) addr = argv[++i];
  }
  return goro::run([&] {
    Chat chat;
    goro::net::Listener ln = goro::net::listen("tcp", demo ? "127.0.0.1:0" : addr);
    std::printf("chat server listening on %s\n", ln.addr().string().c_str());
    std::fflush(stdout);
    goro::go(broadcaster, chat);
    // The accept loop uses ln: it must have returned before ln is destroyed.
    goro::WaitGroup acceptor;
    acceptor.go([&ln, chat] {
      for (;;) {
        try {
          goro::go(handle_conn, chat, ln.accept());
        } catch (const std::system_error&) {
          return;  // the listener was closed
        }
      }
    });
    if (!demo) goro::Chan<int>().recv();  // serve until killed

    // Three bots: each joins (and sees its own arrival announced), waits
    // until all three are in, says hello, reads until it has heard every
    // bot's hello, and leaves.
    goro::WaitGroup joined, bots;
    joined.add(3);
    for (int id = 1; id <= 3; ++id)
      bots.go([&, id] {
        goro::net::Conn c = goro::net::dial("tcp", ln.addr().string());
        std::string seen;
        char buf[512];
        auto read_until = [&](int hellos) {
          int n = 0;
          while (n < hellos) {
            const std::size_t got = c.read(std::span(buf));
            if (got == 0) return;
            seen.append(buf, got);
            n = 0;
            for (std::size_t p = 0; (p = seen.find(": hello from bot", p)) != std::string::npos; ++p) ++n;
          }
        };
        const std::string me = c.local_addr().string() + " has arrived";
        while (seen.find(me) == std::string::npos) {
          const std::size_t got = c.read(std::span(buf));
          if (got == 0) return;
          seen.append(buf, got);
        }
        joined.done();
        joined.wait();
        c.write("hello from bot " + std::to_string(id) + "\n");
        read_until(3);
        std::printf("bot %d heard all 3 hellos\n", id);
      });
    bots.wait();
    ln.close();
    acceptor.wait();
    return 0;
  });
}
