// pipeline — generator → square (fanned out to two workers) → merge, with
// cancellation: the Go blog's "Pipelines and cancellation".
//
// A real program beyond the seeds, the canonical shape from
// https://go.dev/blog/pipelines:
//
//   func gen(done <-chan struct{}, nums ...int) <-chan int
//   func sq(done <-chan struct{}, in <-chan int) <-chan int
//   func merge(done <-chan struct{}, cs ...<-chan int) <-chan int
//
// with a Context in the role of the blog's `done` channel.
//
// What to notice:
// - Each stage is a function that starts a goroutine and returns its output
//   channel; the stage closes that channel when it is finished (Go's
//   `defer close(out)`), which ends the next stage's range-for.
// - Every send is a select between `out <- v` and `<-ctx.done()`: once the
//   consumer cancels, no stage can stay blocked on a send nobody will
//   receive. Part 2 stops after three values and checks that all seven
//   goroutines are gone.
// - Go's closures keep what they capture alive; C++ lambdas don't. merge's
//   WaitGroup outlives merge() because the goroutines share it through a
//   std::shared_ptr (Chan and Context are already shared handles).
#include <goro/goro.hpp>

#include <cstdio>
#include <initializer_list>
#include <memory>
#include <numeric>
#include <vector>

// Sends v on out unless ctx is cancelled first; false if cancelled.
bool send_or_done(const goro::Context& ctx, const goro::Chan<int>& out, int v) {
  return goro::select(goro::on_send(out, v), goro::on_recv(ctx.done())) == 0;
}

goro::Chan<int> gen(const goro::Context& ctx, std::vector<int> nums) {
  goro::Chan<int> out(0);
  goro::go([ctx, out, nums = std::move(nums)] {
    for (int n : nums)
      if (!send_or_done(ctx, out, n)) break;
    out.close();
  });
  return out;
}

goro::Chan<int> sq(const goro::Context& ctx, goro::Chan<int> in) {
  goro::Chan<int> out(0);
  goro::go([ctx, in, out] {
    for (int n : in)
      if (!send_or_done(ctx, out, n * n)) break;
    out.close();
  });
  return out;
}

goro::Chan<int> merge(const goro::Context& ctx, std::initializer_list<goro::Chan<int>> cs) {
  goro::Chan<int> out(0);
  auto wg = std::make_shared<goro::WaitGroup>();
  for (const goro::Chan<int>& c : cs) {
    wg->go([ctx, c, out] {
      for (int n : c)
        if (!send_or_done(ctx, out, n)) return;
    });
  }
  goro::go([wg, out] {
    wg->wait();
    out.close();
  });
  return out;
}

std::vector<int> one_to(int n) {
  std::vector<int> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 1);
  return v;
}

int main() {
  return goro::run([] {
    // 1. Run to completion: the sum of the squares of 1..100.
    {
      auto [ctx, cancel] = goro::with_cancel(goro::background());
      goro::Chan<int> in = gen(ctx, one_to(100));
      goro::Chan<int> c1 = sq(ctx, in);  // fan out: two workers read `in`
      goro::Chan<int> c2 = sq(ctx, in);
      long long sum = 0;
      for (int v : merge(ctx, {c1, c2})) sum += v;  // fan in
      cancel();
      std::printf("sum of squares of 1..100: %lld\n", sum);
    }

    // 2. Early exit: take three values, then cancel. Every stage returns.
    goro::testing::expect_no_leaks([] {
      auto [ctx, cancel] = goro::with_cancel(goro::background());
      goro::Chan<int> in = gen(ctx, one_to(1'000'000));
      goro::Chan<int> out = merge(ctx, {sq(ctx, in), sq(ctx, in)});
      std::printf("early exit: first three values:");
      for (int i = 0; i < 3; ++i) std::printf(" %d", *out.recv());
      std::printf("\nearly exit: %d goroutines running, cancelling\n", goro::num_goroutine());
      cancel();  // Go: defer cancel() — or the blog's close(done)
    });
    std::printf("early exit: every stage returned, %d goroutine left (main)\n", goro::num_goroutine());
    return 0;
  });
}
