// Port of Go's src/runtime/race/testdata/select_test.go (Go 1.19): select
// under the race detector. Conventions: race_test.hpp.
#include "race_test.hpp"

#include <optional>

using namespace race_test;

GORO_RACE_TEST(TestNoRaceSelect1) {
  static volatile int x = 0;
  static goro::Chan<bool> compl_(0);
  static goro::Chan<bool> c(0);
  static goro::Chan<bool> c1(0);
  goro::go([] {
    x = 1;
    // At least two channels are needed because
    // otherwise the compiler optimizes select out.
    // See comment in runtime/select.go:^func selectgo.
    goro::select(goro::on_send(c, true), goro::on_send(c1, true));
    compl_.send(true);
  });
  goro::select(goro::on_recv(c), goro::on_send(c1, true));
  x = 2;
  compl_.recv();
}

GORO_RACE_TEST(TestNoRaceSelect2) {
  static volatile int x = 0;
  static goro::Chan<bool> compl_(0);
  static goro::Chan<bool> c(0);
  static goro::Chan<bool> c1(0);
  goro::go([] {
    goro::select(goro::on_recv(c), goro::on_recv(c1));
    x = 1;
    compl_.send(true);
  });
  x = 2;
  c.close();
  goro::yield();  // Go: runtime.Gosched()
  compl_.recv();
}

GORO_RACE_TEST(TestNoRaceSelect3) {
  static volatile int x = 0;
  static goro::Chan<bool> compl_(0);
  static goro::Chan<bool> c(10);
  static goro::Chan<bool> c1(0);
  goro::go([] {
    x = 1;
    goro::select(goro::on_send(c, true), goro::on_recv(c1));
    compl_.send(true);
  });
  c.recv();
  x = 2;
  compl_.recv();
}

GORO_RACE_TEST(TestNoRaceSelect4) {
  struct Task {
    void (*f)();
    goro::Chan<bool> done;
  };
  static goro::Chan<Task> queue(0);
  static goro::Chan<bool> dummy(0);
  goro::go([] {
    for (;;) {
      goro::select(goro::on_recv(queue, [](std::optional<Task> t) {
        t->f();
        t->done.send(true);
      }));
    }
  });
  auto doit = [](void (*f)()) {
    goro::Chan<bool> done(1);
    goro::select(goro::on_send(queue, Task{f, done}), goro::on_recv(dummy));
    goro::select(goro::on_recv(done), goro::on_recv(dummy));
  };
  static volatile int x = 0;
  doit([] { x = 1; });
  read(x);
}

GORO_RACE_TEST(TestNoRaceSelect5) {
  auto test = [](bool sel, bool need_sched) {
    // Go: fresh variables for each call, kept alive by the closures.
    struct Vars {
      int x = 0;
      goro::Chan<bool> ch{0};
      goro::Chan<bool> c1{0};
      goro::Chan<bool> done{2};
    };
    auto* v = new Vars;
    goro::go([v, sel, need_sched] {
      if (need_sched) goro::yield();
      v->x = 1;
      if (sel) {
        goro::select(goro::on_send(v->ch, true), goro::on_recv(v->c1));
      } else {
        v->ch.send(true);
      }
      v->done.send(true);
    });
    goro::go([v, sel] {
      if (sel) {
        goro::select(goro::on_recv(v->ch), goro::on_recv(v->c1));
      } else {
        v->ch.recv();
      }
      v->x = 1;
      v->done.send(true);
    });
    v->done.recv();
    v->done.recv();
  };
  test(true, true);
  test(true, false);
  test(false, true);
  test(false, false);
}

GORO_RACE_TEST(TestRaceSelect1) {
  static volatile int x = 0;
  static goro::Chan<bool> compl_(2);
  static goro::Chan<bool> c(0);
  static goro::Chan<bool> c1(0);
  goro::go([] {
    c.recv();
    c.recv();
  });
  auto f = [] {
    goro::select(goro::on_send(c, true), goro::on_send(c1, true));
    x = 1;
    compl_.send(true);
  };
  goro::go(f);
  goro::go(f);
  compl_.recv();
  compl_.recv();
}

GORO_RACE_TEST(TestRaceSelect2) {
  static volatile int x = 0;
  static goro::Chan<bool> compl_(0);
  static goro::Chan<bool> c(0);
  static goro::Chan<bool> c1(0);
  goro::go([] {
    x = 1;
    goro::select(goro::on_recv(c), goro::on_recv(c1));
    compl_.send(true);
  });
  c.close();
  x = 2;
  compl_.recv();
}

GORO_RACE_TEST(TestRaceSelect3) {
  static volatile int x = 0;
  static goro::Chan<bool> compl_(0);
  static goro::Chan<bool> c(0);
  static goro::Chan<bool> c1(0);
  goro::go([] {
    x = 1;
    goro::select(goro::on_send(c, true), goro::on_send(c1, true));
    compl_.send(true);
  });
  x = 2;
  goro::select(goro::on_recv(c));
  compl_.recv();
}

GORO_RACE_TEST(TestRaceSelect4) {
  static goro::Chan<bool> done(1);
  static volatile int x = 0;
  goro::go([] {
    goro::select(goro::on_default([] { x = 2; }));
    done.send(true);
  });
  read(x);
  done.recv();
}

// The idea behind this test:
// there are two variables, access to one
// of them is synchronized, access to the other
// is not.
// Select must (unconditionally) choose the non-synchronized variable
// thus causing exactly one race.
// Currently this test doesn't look like it accomplishes
// this goal.
GORO_RACE_TEST(TestRaceSelect5) {
  static goro::Chan<bool> done(1);
  static goro::Chan<bool> c1(1);
  static goro::Chan<bool> c2(0);
  static volatile int x = 0, y = 0;
  goro::go([] {
    goro::select(goro::on_send(c1, true, [] { x = 1; }), goro::on_send(c2, true, [] { y = 1; }));
    done.send(true);
  });
  read(x);
  read(y);
  done.recv();
}

// Go's select_test.go ends with TestFlakyDefault, commented out there
// ("whether this test contains a race depends on the scheduling"): not ported.
