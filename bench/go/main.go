// Go twins of goro's benchmarks (see ../../../shared/BENCH.md, mirrored in
// bench/README.md): the same workloads, sizes and figures as bench/*.cpp,
// so that one run on one machine gives the goro/Go ratios.
//
//	go run main.go [-procs 1,2,4] [-quick] [-only <workload>[,<workload>...]]
//	               [-reps N] [-list]
//
// Prints one JSON object per line, named like the Google Benchmark records:
//
//	{"name":"switch:go/procs:1","ns_per_switch":123.4}
//
// Each workload runs once to warm up, then -reps times (default 5, 2 with
// -quick); the record is the run with the median primary figure. sleep_fanout, idle_cpu and live_memory
// run once, live_memory and idle_cpu in a fresh child process (this binary
// re-executed with -child), so that memory or background work left behind by
// earlier workloads cannot leak into their figures. sched_latency also runs
// once (it warms up inside).
//
// -list prints the (workload, procs) pairs that a run with the same -procs
// and -only would measure, one "<workload> <procs>" per line, and exits:
// scripts/bench plans its alternating runs from it.
//
// Standard library only (Go 1.19): build with `go build` in this directory
// (go.mod has no requirements) or `GO111MODULE=off go run main.go`.
package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

var (
	procsFlag = flag.String("procs", "1,2,4", "comma-separated GOMAXPROCS values to sweep")
	quick     = flag.Bool("quick", false, "10x smaller workloads, fewer repetitions")
	only      = flag.String("only", "", "comma-separated workloads to run (default: all)")
	repsFlag  = flag.Int("reps", 0, "measured runs per workload after the warm-up (default 5, 2 with -quick)")
	list      = flag.Bool("list", false, "print the <workload> <procs> pairs that would run, and exit")
	child     = flag.String("child", "", "internal: run one isolated workload in this process")
	childP    = flag.Int("child-procs", 1, "internal: GOMAXPROCS for -child")
)

// scale shrinks a workload size 10x in -quick mode (as GORO_BENCH_QUICK=1
// does for the C++ benchmarks).
func scale(n int) int {
	if *quick {
		return n / 10
	}
	return n
}

// fig is one figure of a record, in the order printed.
type fig struct {
	key string
	val float64
}

type result []fig

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "bench/go: FAILED: "+format+"\n", args...)
	os.Exit(1)
}

func since(t time.Time) float64 { return float64(time.Since(t).Nanoseconds()) }

// ---- switch: two goroutines Gosched to each other on one P ----------------

func benchSwitch() result {
	n := scale(1_000_000)
	var wg sync.WaitGroup
	wg.Add(2)
	start := time.Now()
	for k := 0; k < 2; k++ {
		go func() {
			for i := 0; i < n; i++ {
				runtime.Gosched()
			}
			wg.Done()
		}()
	}
	wg.Wait()
	return result{{"ns_per_switch", since(start) / float64(2*n)}}
}

// ---- spawn_join: 100,000 trivial goroutines, one WaitGroup -----------------

func benchSpawnJoin() result {
	n := scale(100_000)
	var wg sync.WaitGroup
	start := time.Now()
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			wg.Done()
		}()
	}
	wg.Wait()
	return result{{"ns_per_goroutine", since(start) / float64(n)}}
}

// ---- skynet: 10-ary tree of goroutines, sums reported over channels --------
// Canonical skynet (github.com/atemerev/skynet): one unbuffered channel per
// parent, shared by its ten children.

func skynet(c chan int, num, size, div int) {
	if size == 1 {
		c <- num
		return
	}
	rc := make(chan int)
	sum := 0
	for i := 0; i < div; i++ {
		sub := num + i*(size/div)
		go skynet(rc, sub, size/div, div)
	}
	for i := 0; i < div; i++ {
		sum += <-rc
	}
	c <- sum
}

func benchSkynet() result {
	leaves := scale(1_000_000)
	want := leaves * (leaves - 1) / 2 // 499999500000 for 1,000,000 leaves
	c := make(chan int)
	start := time.Now()
	go skynet(c, 0, leaves, 10)
	sum := <-c
	el := since(start)
	if sum != want {
		fail("skynet sum %d, want %d", sum, want)
	}
	return result{{"ms", el / 1e6}}
}

// ---- pingpong: two goroutines, two unbuffered channels ----------------------

func benchPingpong() result {
	n := scale(1_000_000)
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v + 1
		}
		close(pong)
	}()
	start := time.Now()
	for i := 0; i < n; i++ {
		ping <- i
		if v := <-pong; v != i+1 {
			fail("pingpong got %d, want %d", v, i+1)
		}
	}
	el := since(start)
	close(ping)
	<-pong
	return result{{"ns_per_round_trip", el / float64(n)}}
}

// ---- chan_throughput: one producer, one consumer, capacity 128 --------------

func benchChanThroughput() result {
	n := scale(10_000_000)
	ch := make(chan int, 128)
	start := time.Now()
	go func() {
		for i := 0; i < n; i++ {
			ch <- i
		}
		close(ch)
	}()
	sum := 0
	for v := range ch {
		sum += v
	}
	el := since(start)
	if want := n * (n - 1) / 2; sum != want {
		fail("chan_throughput sum %d, want %d", sum, want)
	}
	return result{{"ns_per_item", el / float64(n)}}
}

// ---- mutex_counter: 1000 goroutines x 1000 increments under one Mutex --------

func benchMutexCounter() result {
	const g = 1000
	per := scale(1000)
	var mu sync.Mutex
	var wg sync.WaitGroup
	counter := 0
	start := time.Now()
	wg.Add(g)
	for i := 0; i < g; i++ {
		go func() {
			for j := 0; j < per; j++ {
				mu.Lock()
				counter++
				mu.Unlock()
			}
			wg.Done()
		}()
	}
	wg.Wait()
	el := since(start)
	if counter != g*per {
		fail("mutex_counter %d, want %d", counter, g*per)
	}
	return result{{"ns_per_increment", el / float64(g*per)}}
}

// ---- rwmutex_read_mostly: 1000 goroutines x 1000 ops, 1 write per 100 --------

func benchRWMutex() result {
	const g, keys = 1000, 1000
	per := scale(1000)
	m := make(map[int]int, keys)
	for k := 0; k < keys; k++ {
		m[k] = k
	}
	var mu sync.RWMutex
	var wg sync.WaitGroup
	var readSum [g]int
	start := time.Now()
	wg.Add(g)
	for i := 0; i < g; i++ {
		go func(id int) {
			x := uint32(id)*2654435761 + 1 // per-goroutine LCG: same keys as the C++ twin
			s := 0
			for j := 0; j < per; j++ {
				x = x*1664525 + 1013904223
				k := int(x>>16) % keys
				if j%100 == 0 {
					mu.Lock()
					m[k]++
					mu.Unlock()
				} else {
					mu.RLock()
					s += m[k]
					mu.RUnlock()
				}
			}
			readSum[id] = s
			wg.Done()
		}(i)
	}
	wg.Wait()
	el := since(start)
	total := 0
	for _, v := range m {
		total += v
	}
	writes := g * ((per + 99) / 100)
	if want := keys*(keys-1)/2 + writes; total != want || len(m) != keys {
		fail("rwmutex_read_mostly map sum %d (len %d), want %d", total, len(m), want)
	}
	return result{{"ns_per_op", el / float64(g*per)}}
}

// ---- sleep_fanout: 10,000 goroutines each sleep 100 ms ----------------------

func cpuMs() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		fail("getrusage: %v", err)
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e6
}

func benchSleepFanout() result {
	const n = 10_000
	runtime.GC()
	var wg sync.WaitGroup
	c0 := cpuMs()
	start := time.Now()
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			time.Sleep(100 * time.Millisecond)
			wg.Done()
		}()
	}
	wg.Wait()
	wall := since(start) / 1e6
	return result{{"wall_ms", wall}, {"cpu_ms", cpuMs() - c0}}
}

// ---- live_memory: 100,000 goroutines blocked on a channel; RSS growth --------

func rssBytes() float64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		fail("read /proc/self/statm: %v", err)
	}
	f := strings.Fields(string(b))
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		fail("parse statm: %v", err)
	}
	return float64(pages) * float64(os.Getpagesize())
}

func benchLiveMemory() result {
	n := scale(100_000)
	runtime.GC()
	debug.FreeOSMemory()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	before := rssBytes()
	ch := make(chan struct{})
	var started, finished sync.WaitGroup
	started.Add(n)
	finished.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			started.Done()
			<-ch
			finished.Done()
		}()
	}
	started.Wait()
	time.Sleep(20 * time.Millisecond) // let the last ones park on ch
	after := rssBytes()
	runtime.ReadMemStats(&ms1)
	if g := runtime.NumGoroutine(); g < n {
		fail("live_memory: %d goroutines alive, want >= %d", g, n)
	}
	close(ch)
	finished.Wait()
	return result{
		{"bytes_per_goroutine", (after - before) / float64(n)},
		{"stack_inuse_per_goroutine", float64(ms1.StackInuse-ms0.StackInuse) / float64(n)},
	}
}

// ---- idle_cpu: goroutines blocked, runtime idle for 1 s; CPU used ------------

func benchIdleCPU() result {
	const n = 1000
	window := 1000 * time.Millisecond
	if *quick {
		window = 250 * time.Millisecond
	}
	ch := make(chan struct{})
	var started, finished sync.WaitGroup
	started.Add(n)
	finished.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			started.Done()
			<-ch
			finished.Done()
		}()
	}
	started.Wait()
	time.Sleep(20 * time.Millisecond) // settle: everyone parked
	c0 := cpuMs()
	time.Sleep(window)
	used := cpuMs() - c0
	close(ch)
	finished.Wait()
	return result{{"cpu_ms", used}}
}

// ---- once_fast: Once.Do after the first call --------------------------------

func benchOnceFast() result {
	n := scale(20_000_000)
	var once sync.Once
	calls := 0
	f := func() { calls++ }
	once.Do(f)
	start := time.Now()
	for i := 0; i < n; i++ {
		once.Do(f)
	}
	el := since(start)
	if calls != 1 {
		fail("once_fast ran %d times", calls)
	}
	return result{{"ns", el / float64(n)}}
}

// ---- goro-only extras, twinned where Go has the same thing ------------------

func benchUncontendedMutex() result {
	n := scale(10_000_000)
	var mu sync.Mutex
	x := 0
	start := time.Now()
	for i := 0; i < n; i++ {
		mu.Lock()
		x++
		mu.Unlock()
	}
	el := since(start)
	if x != n {
		fail("uncontended_mutex %d", x)
	}
	return result{{"ns_per_op", el / float64(n)}}
}

func benchWaitGroupRound() result {
	n := scale(10_000_000)
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		wg.Done()
		wg.Wait()
	}
	return result{{"ns_per_op", since(start) / float64(n)}}
}

// selectN: k producers, each on its own unbuffered channel; one consumer
// selects over all k until n items arrived.
func benchSelect(k int) result {
	n := scale(1_000_000)
	chans := make([]chan int, k)
	for i := range chans {
		chans[i] = make(chan int)
	}
	per := n / k
	start := time.Now()
	for i := 0; i < k; i++ {
		go func(c chan int) {
			for j := 0; j < per; j++ {
				c <- 1
			}
		}(chans[i])
	}
	got := 0
	switch k {
	case 2:
		for got < per*k {
			select {
			case v := <-chans[0]:
				got += v
			case v := <-chans[1]:
				got += v
			}
		}
	case 4:
		for got < per*k {
			select {
			case v := <-chans[0]:
				got += v
			case v := <-chans[1]:
				got += v
			case v := <-chans[2]:
				got += v
			case v := <-chans[3]:
				got += v
			}
		}
	}
	return result{{"ns_per_op", since(start) / float64(per*k)}}
}

// The blocking_* twins use syscalls that go through Go's entersyscall /
// exitsyscall (syscall.Syscall), as goro::blocking does for its callback.
func benchBlockingImmediate() result {
	n := scale(1_000_000)
	start := time.Now()
	for i := 0; i < n; i++ {
		syscall.Syscall(syscall.SYS_GETPID, 0, 0, 0)
	}
	return result{{"ns_per_op", since(start) / float64(n)}}
}

func nanosleep(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	syscall.Nanosleep(&ts, nil) // a blocking syscall: the P is handed off
}

// blocking_1ms: 64 goroutines each make 10 blocking 1 ms calls; ideal wall
// time is ~10 ms (all in parallel on extra threads).
func benchBlocking1ms() result {
	const g, calls = 64, 10
	var wg sync.WaitGroup
	start := time.Now()
	wg.Add(g)
	for i := 0; i < g; i++ {
		go func() {
			for j := 0; j < calls; j++ {
				nanosleep(time.Millisecond)
			}
			wg.Done()
		}()
	}
	wg.Wait()
	return result{{"wall_ms", since(start) / 1e6}}
}

// parallel_fetch: the seed's concurrent fetcher with the network replaced by
// a blocking 50 ms call: 10 goroutines, a Mutex-guarded result slice, one
// WaitGroup. Ideal wall time ~50 ms.
func benchParallelFetch() result {
	const urls = 10
	var wg sync.WaitGroup
	var mu sync.Mutex
	var results []int
	start := time.Now()
	for i := 0; i < urls; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			nanosleep(50 * time.Millisecond)
			mu.Lock()
			results = append(results, i)
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	el := since(start)
	if len(results) != urls {
		fail("parallel_fetch: %d results", len(results))
	}
	return result{{"wall_ms", el / 1e6}}
}

// ---- sched_latency: goroutines readied on a loaded runtime ------------------
// The spec (bench/README.md, "sched_latency") for procs P:
//   - 2*P hog goroutines loop { spin on the clock for 20 µs; runtime.Gosched() }
//     until the measurement ends;
//   - 100 receiver goroutines, each parked receiving on its own unbuffered
//     channel; on wake-up it records now - the stamp it received, and parks
//     again;
//   - one waker goroutine does `rounds` rounds of { sleep 1 ms (a timer);
//     for each receiver in order: send it the current time }.
// 50 untimed rounds first (warm-up), then `rounds` measured ones (500,
// 100 with -quick). Figures:
//   p50_us, p99_us, max_us  from runtime/metrics "/sched/latencies:seconds"
//       (time from runnable to running, every goroutine; Go samples one
//       transition in 8 per goroutine), the delta over the measured rounds;
//       a percentile is the upper edge of its histogram bucket (Go's buckets
//       are ~6% wide), max the upper edge of the highest non-empty bucket.
//   wake_p50_us, wake_p99_us, wake_max_us  the receivers' own send-to-running
//       latency, measured by the program (exact, receivers only).

const schedLatencyMetric = "/sched/latencies:seconds"

func readSchedLatencies() *metrics.Float64Histogram {
	s := []metrics.Sample{{Name: schedLatencyMetric}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64Histogram {
		fail("runtime/metrics has no %s in this Go version", schedLatencyMetric)
	}
	return s[0].Value.Float64Histogram()
}

// histQuantile returns the upper edge of the bucket holding quantile q of
// the counts (the lower edge if that is +Inf), in seconds.
func histQuantile(counts []uint64, buckets []float64, q float64) float64 {
	var total uint64
	for _, c := range counts {
		total += c
	}
	if total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(total)))
	if rank == 0 {
		rank = 1
	}
	var cum uint64
	for i, c := range counts {
		cum += c
		if cum >= rank {
			if hi := buckets[i+1]; !math.IsInf(hi, 1) {
				return hi
			}
			return buckets[i]
		}
	}
	return buckets[len(buckets)-1]
}

func exactQuantile(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	if i < 0 {
		i = 0
	}
	return float64(sorted[i].Nanoseconds()) / 1e3
}

func benchSchedLatency() result {
	const receivers, warmup = 100, 50
	const hogSlice, pause = 20 * time.Microsecond, time.Millisecond
	rounds := 500
	if *quick {
		rounds = 100
	}
	procs := runtime.GOMAXPROCS(0)
	base := time.Now()
	var stop int32
	var hogs sync.WaitGroup
	hogs.Add(2 * procs)
	for i := 0; i < 2*procs; i++ {
		go func() {
			defer hogs.Done()
			for atomic.LoadInt32(&stop) == 0 {
				t0 := time.Now()
				for time.Since(t0) < hogSlice {
				}
				runtime.Gosched()
			}
		}()
	}
	// A wake-up carries its send time and whether its round is measured, so
	// that stragglers of the warm-up are not counted and the last measured
	// round is counted in full.
	type wakeup struct {
		sent     time.Duration
		measured bool
	}
	chans := make([]chan wakeup, receivers)
	lat := make([][]time.Duration, receivers)
	var recvs sync.WaitGroup
	recvs.Add(receivers)
	for i := range chans {
		chans[i] = make(chan wakeup)
		go func(i int) {
			defer recvs.Done()
			for w := range chans[i] {
				d := time.Since(base) - w.sent
				if w.measured {
					lat[i] = append(lat[i], d)
				}
			}
		}(i)
	}
	wake := func(n int, measured bool) {
		for r := 0; r < n; r++ {
			time.Sleep(pause)
			for _, c := range chans {
				c <- wakeup{time.Since(base), measured}
			}
		}
	}
	wake(warmup, false)
	h0 := readSchedLatencies()
	wake(rounds, true)
	for _, c := range chans {
		close(c)
	}
	recvs.Wait() // every measured wake-up has run, and is in the histogram
	h1 := readSchedLatencies()
	atomic.StoreInt32(&stop, 1)
	hogs.Wait()

	counts := make([]uint64, len(h1.Counts))
	for i := range counts {
		counts[i] = h1.Counts[i] - h0.Counts[i]
	}
	maxUs := 0.0
	for i := len(counts) - 1; i >= 0; i-- {
		if counts[i] > 0 {
			edge := h1.Buckets[i+1]
			if math.IsInf(edge, 1) {
				edge = h1.Buckets[i]
			}
			maxUs = edge * 1e6
			break
		}
	}
	var wakes []time.Duration
	for _, l := range lat {
		wakes = append(wakes, l...)
	}
	if len(wakes) != receivers*rounds {
		fail("sched_latency: %d wake-ups measured, want %d", len(wakes), receivers*rounds)
	}
	sort.Slice(wakes, func(a, b int) bool { return wakes[a] < wakes[b] })
	return result{
		{"p99_us", histQuantile(counts, h1.Buckets, 0.99) * 1e6},
		{"p50_us", histQuantile(counts, h1.Buckets, 0.50) * 1e6},
		{"max_us", maxUs},
		{"wake_p50_us", exactQuantile(wakes, 0.50)},
		{"wake_p99_us", exactQuantile(wakes, 0.99)},
		{"wake_max_us", exactQuantile(wakes, 1)},
	}
}

// ---- driver -----------------------------------------------------------------

type workload struct {
	name     string
	fn       func() result
	onlyP1   bool // meaningful on one P only (switch, once_fast, ...)
	once     bool // one run, no warm-up (sleep/idle/memory workloads)
	isolated bool // run in a fresh child process
}

var workloads = []workload{
	{name: "switch", fn: benchSwitch, onlyP1: true},
	{name: "spawn_join", fn: benchSpawnJoin},
	{name: "skynet", fn: benchSkynet},
	{name: "pingpong", fn: benchPingpong},
	{name: "chan_throughput", fn: benchChanThroughput},
	{name: "mutex_counter", fn: benchMutexCounter},
	{name: "rwmutex_read_mostly", fn: benchRWMutex},
	{name: "sleep_fanout", fn: benchSleepFanout, once: true},
	{name: "live_memory", fn: benchLiveMemory, once: true, isolated: true},
	{name: "idle_cpu", fn: benchIdleCPU, once: true, isolated: true},
	{name: "once_fast", fn: benchOnceFast, onlyP1: true},
	{name: "uncontended_mutex", fn: benchUncontendedMutex, onlyP1: true},
	{name: "waitgroup_round", fn: benchWaitGroupRound, onlyP1: true},
	{name: "select2", fn: func() result { return benchSelect(2) }},
	{name: "select4", fn: func() result { return benchSelect(4) }},
	{name: "blocking_immediate", fn: benchBlockingImmediate, onlyP1: true},
	{name: "blocking_1ms", fn: benchBlocking1ms},
	{name: "parallel_fetch", fn: benchParallelFetch},
	{name: "sched_latency", fn: benchSchedLatency, once: true},
}

func format(name string, procs int, r result) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"name":"%s:go/procs:%d"`, name, procs)
	for _, f := range r {
		fmt.Fprintf(&b, `,"%s":%s`, f.key, strconv.FormatFloat(f.val, 'f', 3, 64))
	}
	b.WriteString("}")
	return b.String()
}

// runIsolated re-executes this binary to run one workload in a fresh process
// and relays its line.
func runIsolated(w workload, procs int) string {
	args := []string{"-child", w.name, "-child-procs", strconv.Itoa(procs)}
	if *quick {
		args = append(args, "-quick")
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		fail("%s (procs %d) in a child process: %v", w.name, procs, err)
	}
	return strings.TrimSpace(string(out))
}

func measure(w workload) result {
	if w.once {
		return w.fn()
	}
	reps := 5
	if *quick {
		reps = 2
	}
	if *repsFlag > 0 {
		reps = *repsFlag
	}
	w.fn() // warm-up: stacks, heap, caches
	runs := make([]result, reps)
	for i := range runs {
		runs[i] = w.fn()
	}
	sort.Slice(runs, func(a, b int) bool { return runs[a][0].val < runs[b][0].val })
	return runs[reps/2]
}

func main() {
	flag.Parse()
	if *child != "" {
		for _, w := range workloads {
			if w.name == *child {
				runtime.GOMAXPROCS(*childP)
				fmt.Println(format(w.name, *childP, w.fn()))
				return
			}
		}
		fail("unknown workload %q", *child)
	}

	var procs []int
	for _, s := range strings.Split(*procsFlag, ",") {
		p, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || p < 1 {
			fail("bad -procs value %q", s)
		}
		procs = append(procs, p)
	}
	selected := map[string]bool{}
	if *only != "" {
		for _, s := range strings.Split(*only, ",") {
			selected[strings.TrimSpace(s)] = true
		}
		for name := range selected {
			found := false
			for _, w := range workloads {
				found = found || w.name == name
			}
			if !found {
				fail("unknown workload %q", name)
			}
		}
	}

	for _, w := range workloads {
		if len(selected) > 0 && !selected[w.name] {
			continue
		}
		for _, p := range procs {
			if w.onlyP1 && p != 1 {
				continue
			}
			if *list {
				fmt.Println(w.name, p)
				continue
			}
			if w.isolated {
				fmt.Println(runIsolated(w, p))
				continue
			}
			runtime.GOMAXPROCS(p)
			fmt.Println(format(w.name, p, measure(w)))
		}
	}
}
