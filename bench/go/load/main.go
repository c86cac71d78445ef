// The load generator of goro's network benchmarks (bench/README.md,
// "Network benchmarks"): the same client drives the goro server and its Go
// twin, one after the other, so that their figures compare.
//
//	goro_go_load echo_pingpong --addr 127.0.0.1:PORT [--conns 1000] [--size 64]
//	goro_go_load echo_stream   --addr 127.0.0.1:PORT [--conns 4] [--size 512]
//	goro_go_load http_hello    --addr 127.0.0.1:PORT [--conns 100] [--threads 2]
//	goro_go_load http_check    --addr 127.0.0.1:PORT
//
// Common flags: --warmup 1s --duration 3s (measured window after the
// warm-up), --name <record name> (e.g. echo_pingpong_64:goro/procs:1).
//
//   - echo_pingpong: opens --conns connections; each sends --size bytes, waits
//     for the whole echo, checks it byte for byte, and repeats. Figures over
//     the measured window: qps (round trips completed per second, all
//     connections), p50_us / p99_us / max_us (round-trip latency; a round
//     trip still waiting when the window closes counts with the time it
//     waited, so a starved connection shows), stalled_conns (connections
//     that completed no round trip in the window).
//   - echo_stream: opens --conns connections; on each, one goroutine writes
//     --size-byte chunks of a known byte stream as fast as it can while
//     another reads the echo and checks it. Figure: mb_per_s (echoed bytes
//     read per second, all connections, 10^6 bytes).
//   - http_hello: checks the server first (http_check), then runs wrk
//     (keep-alive, --conns connections, --threads threads) for --warmup
//     (unmeasured) and then --duration. Figures: req_per_s, p50_us, p99_us
//     (wrk's latency distribution). Non-2xx answers or connect errors fail.
//   - http_check: a few requests that every benchmark HTTP server must answer
//     as the spec says (keep-alive, Content-Length bodies, pipelining,
//     Connection: close, HTTP/1.0, 400 on garbage); prints what failed.
//
// Prints one JSON line like the other Go twins:
//
//	{"name":"echo_pingpong_64:go/procs:1","qps":...,"p50_us":...,...,"label":"..."}
//
// Loopback only (the address must be 127.0.0.0/8, ::1 or localhost).
// Bounded: the connection count is checked against RLIMIT_NOFILE (raised to
// the hard limit first; too low a limit fails with a message saying so),
// dialing has a deadline, and a watchdog fails the run if it overstays its
// time by 30 s. Any connection error or wrong echo before the window closes
// fails the run (exit 1) with the connection and the error.
// Standard library only (Go 1.19).
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	phaseWarmup int32 = iota
	phaseMeasure
	phaseStop
)

type options struct {
	addr     string
	name     string
	conns    int
	size     int
	threads  int
	warmup   time.Duration
	duration time.Duration
	wrk      string
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "goro_go_load: FAILED: "+format+"\n", args...)
	os.Exit(1)
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: goro_go_load echo_pingpong|echo_stream|http_hello|http_check --addr HOST:PORT [flags]")
	os.Exit(2)
}

// checkLoopback refuses anything but a loopback address: this program only
// ever benchmarks a server on the same machine.
func checkLoopback(addr string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" || port == "0" {
		fail("--addr %q: want HOST:PORT of a listening server", addr)
	}
	if host == "localhost" {
		return
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		fail("--addr %q: only loopback addresses (127.0.0.0/8, ::1, localhost) are allowed", addr)
	}
}

// raiseNoFile raises RLIMIT_NOFILE to the hard limit and fails clearly if
// `need` descriptors still do not fit.
func raiseNoFile(need int) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		fail("getrlimit: %v", err)
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
			fail("setrlimit(RLIMIT_NOFILE, %d): %v", rl.Max, err)
		}
	}
	if uint64(need) > rl.Cur {
		fail("%d connections need ~%d file descriptors, but RLIMIT_NOFILE's hard limit is %d "+
			"(raise it with `ulimit -Hn` as root, or pass fewer --conns)", need-64, need, rl.Max)
	}
}

// dialAll opens n connections, at most 64 dials at a time, within 30 s.
func dialAll(addr string, n int) []net.Conn {
	raiseNoFile(n + 64)
	conns := make([]net.Conn, n)
	errs := make([]error, n)
	d := net.Dialer{Timeout: 5 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			if time.Now().After(deadline) {
				errs[i] = errors.New("dial deadline (30 s) passed")
				return
			}
			conns[i], errs[i] = d.Dial("tcp", addr)
		}(i)
	}
	wg.Wait()
	opened, first := 0, error(nil)
	for i := range conns {
		if errs[i] == nil {
			opened++
		} else if first == nil {
			first = errs[i]
		}
	}
	if opened < n {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
		fail("opened only %d of %d connections to %s: %v", opened, n, addr, first)
	}
	return conns
}

// watchdog fails the run if it lasts longer than planned plus 30 s.
func watchdog(planned time.Duration) {
	time.AfterFunc(planned+30*time.Second, func() {
		fail("still running %v after its planned %v: server stuck?", planned+30*time.Second, planned)
	})
}

// stopAll closes the window: every blocked read or write returns at once.
func stopAll(phase *int32, conns []net.Conn) {
	atomic.StoreInt32(phase, phaseStop)
	now := time.Now()
	for _, c := range conns {
		c.SetDeadline(now)
	}
}

func quantileUs(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	if i < 0 {
		i = 0
	}
	return float64(sorted[i].Nanoseconds()) / 1e3
}

type fig struct {
	key string
	val float64
}

func emit(name string, figs []fig, label string) {
	var b strings.Builder
	fmt.Fprintf(&b, `{"name":%q`, name)
	for _, f := range figs {
		fmt.Fprintf(&b, `,%q:%s`, f.key, strconv.FormatFloat(f.val, 'f', 3, 64))
	}
	fmt.Fprintf(&b, `,"label":%q}`, label)
	fmt.Println(b.String())
}

// ---- echo_pingpong ------------------------------------------------------------

type pingStats struct {
	lat     []time.Duration // round trips completed in the window, then the ones cut off
	done    int             // round trips completed in the window
	waiting bool            // a round trip was cut off by the end of the window
	err     error
}

func pingpong(c net.Conn, id, size int, phase *int32, st *pingStats) {
	out := make([]byte, size)
	in := make([]byte, size)
	for seq := 0; ; seq++ {
		for i := range out {
			out[i] = byte(seq + 7*i + id)
		}
		if atomic.LoadInt32(phase) == phaseStop {
			return
		}
		t0 := time.Now()
		if _, err := c.Write(out); err != nil {
			if atomic.LoadInt32(phase) != phaseStop {
				st.err = fmt.Errorf("write after %d round trips: %w", seq, err)
			}
			return
		}
		if _, err := io.ReadFull(c, in); err != nil {
			if atomic.LoadInt32(phase) == phaseStop {
				st.lat = append(st.lat, time.Since(t0)) // cut off: counts with what it waited
				st.waiting = true
			} else {
				st.err = fmt.Errorf("read after %d round trips: %w", seq, err)
			}
			return
		}
		d := time.Since(t0)
		if !bytes.Equal(in, out) {
			st.err = fmt.Errorf("round trip %d: the echo differs from what was sent", seq)
			return
		}
		if atomic.LoadInt32(phase) == phaseMeasure {
			st.lat = append(st.lat, d)
			st.done++
		}
	}
}

func echoPingpong(o options) {
	watchdog(30*time.Second + o.warmup + o.duration)
	conns := dialAll(o.addr, o.conns)
	var phase int32
	stats := make([]pingStats, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func(i int, c net.Conn) {
			defer wg.Done()
			pingpong(c, i, o.size, &phase, &stats[i])
		}(i, c)
	}
	time.Sleep(o.warmup)
	atomic.StoreInt32(&phase, phaseMeasure)
	t0 := time.Now()
	time.Sleep(o.duration)
	elapsed := time.Since(t0)
	stopAll(&phase, conns)
	wg.Wait()
	for _, c := range conns {
		c.Close()
	}
	var all []time.Duration
	done, stalled, waiting := 0, 0, 0
	for i := range stats {
		if stats[i].err != nil {
			fail("%s connection %d of %d: %v", o.name, i, len(conns), stats[i].err)
		}
		all = append(all, stats[i].lat...)
		done += stats[i].done
		if stats[i].done == 0 {
			stalled++
		}
		if stats[i].waiting {
			waiting++
		}
	}
	if done == 0 {
		fail("%s: no round trip completed in %v", o.name, elapsed)
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	emit(o.name, []fig{
		{"qps", float64(done) / elapsed.Seconds()},
		{"p50_us", quantileUs(all, 0.50)},
		{"p99_us", quantileUs(all, 0.99)},
		{"max_us", quantileUs(all, 1)},
		{"stalled_conns", float64(stalled)},
	}, fmt.Sprintf("%d conns × %d B, %v window", o.conns, o.size, o.duration))
}

// ---- echo_stream ---------------------------------------------------------------

const patternPeriod = 251 // a prime: chunk boundaries never line up with it

func echoStream(o options) {
	watchdog(30*time.Second + o.warmup + o.duration)
	conns := dialAll(o.addr, o.conns)
	const readBuf = 64 << 10
	pattern := make([]byte, patternPeriod+readBuf+o.size)
	for i := range pattern {
		pattern[i] = byte(i % patternPeriod)
	}
	var phase int32
	counted := make([]int64, len(conns))
	errs := make([]error, 2*len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(2)
		go func(i int, c net.Conn) { // writer
			defer wg.Done()
			var off int64
			for atomic.LoadInt32(&phase) != phaseStop {
				k := int(off % patternPeriod)
				n, err := c.Write(pattern[k : k+o.size])
				off += int64(n)
				if err != nil {
					if atomic.LoadInt32(&phase) != phaseStop {
						errs[2*i] = fmt.Errorf("write after %d bytes: %w", off, err)
					}
					return
				}
			}
		}(i, c)
		go func(i int, c net.Conn) { // reader
			defer wg.Done()
			buf := make([]byte, readBuf)
			var off int64
			for {
				n, err := c.Read(buf)
				k := int(off % patternPeriod)
				if !bytes.Equal(buf[:n], pattern[k:k+n]) {
					errs[2*i+1] = fmt.Errorf("the echo differs from what was sent, near byte %d", off)
					return
				}
				off += int64(n)
				if atomic.LoadInt32(&phase) == phaseMeasure {
					counted[i] += int64(n)
				}
				if err != nil {
					if atomic.LoadInt32(&phase) != phaseStop {
						errs[2*i+1] = fmt.Errorf("read after %d bytes: %w", off, err)
					}
					return
				}
			}
		}(i, c)
	}
	time.Sleep(o.warmup)
	atomic.StoreInt32(&phase, phaseMeasure)
	t0 := time.Now()
	time.Sleep(o.duration)
	elapsed := time.Since(t0)
	stopAll(&phase, conns)
	wg.Wait()
	for _, c := range conns {
		c.Close()
	}
	var total int64
	for i, err := range errs {
		if err != nil {
			fail("%s connection %d of %d: %v", o.name, i/2, len(conns), err)
		}
	}
	for _, n := range counted {
		total += n
	}
	if total == 0 {
		fail("%s: nothing echoed in %v", o.name, elapsed)
	}
	emit(o.name, []fig{{"mb_per_s", float64(total) / elapsed.Seconds() / 1e6}},
		fmt.Sprintf("%d conns, %d B writes, %v window", o.conns, o.size, o.duration))
}

// ---- http_check -------------------------------------------------------------------

// exchange sends raw on a new connection and reads `want` responses.
func exchange(addr, raw string, want int) ([]*http.Response, []string, *bufio.Reader, net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		c.Close()
		return nil, nil, nil, nil, err
	}
	r := bufio.NewReader(c)
	var resps []*http.Response
	var bodies []string
	for i := 0; i < want; i++ {
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			c.Close()
			return resps, bodies, nil, nil, fmt.Errorf("response %d of %d: %w", i+1, want, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			c.Close()
			return resps, bodies, nil, nil, fmt.Errorf("response %d body: %w", i+1, err)
		}
		resps = append(resps, resp)
		bodies = append(bodies, string(b))
	}
	return resps, bodies, r, c, nil
}

// closedByPeer reports whether the server closed the connection (EOF or reset).
func closedByPeer(r *bufio.Reader) bool {
	_, err := r.ReadByte()
	return err == io.EOF || errors.Is(err, syscall.ECONNRESET)
}

func httpCheck(addr string) []string {
	const get = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
	cases := []struct {
		what   string
		raw    string
		status []int
		closed bool // the server must close after the answers
	}{
		{"two keep-alive GETs on one connection", get + get, []int{200, 200}, false},
		{"a POST with a Content-Length body, then a GET", "POST /x HTTP/1.1\r\nHost: l\r\nContent-Length: 5\r\n\r\nhello" + get, []int{200, 200}, false},
		{"three pipelined GETs in one write", get + get + get, []int{200, 200, 200}, false},
		{"Connection: close", "GET / HTTP/1.1\r\nHost: l\r\nConnection: close\r\n\r\n", []int{200}, true},
		{"HTTP/1.0 without keep-alive", "GET / HTTP/1.0\r\n\r\n", []int{200}, true},
		{"garbage", "HELLO THERE\r\n\r\n", []int{400}, true},
		{"a header line without a colon", "GET / HTTP/1.1\r\nHost l\r\n\r\n", []int{400}, true},
		{"a bad Content-Length", "POST / HTTP/1.1\r\nHost: l\r\nContent-Length: x\r\n\r\n", []int{400}, true},
	}
	var problems []string
	for _, tc := range cases {
		resps, bodies, r, c, err := exchange(addr, tc.raw, len(tc.status))
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", tc.what, err))
			continue
		}
		for i, resp := range resps {
			if resp.StatusCode != tc.status[i] {
				problems = append(problems, fmt.Sprintf("%s: response %d is %q, want %d", tc.what, i+1, resp.Status, tc.status[i]))
			} else if resp.StatusCode == 200 && bodies[i] != "Hello, World!" {
				problems = append(problems, fmt.Sprintf("%s: body %q, want \"Hello, World!\"", tc.what, bodies[i]))
			}
		}
		if tc.closed && !closedByPeer(r) {
			problems = append(problems, tc.what+": the server kept the connection open")
		}
		if !tc.closed {
			// Still open and usable: one more GET.
			c.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.WriteString(c, get); err != nil {
				problems = append(problems, tc.what+": connection closed after the answers: "+err.Error())
			} else if resp, err := http.ReadResponse(r, nil); err != nil || resp.StatusCode != 200 {
				problems = append(problems, fmt.Sprintf("%s: the connection did not stay usable (%v)", tc.what, err))
			}
		}
		c.Close()
	}
	return problems
}

// ---- http_hello (wrk) ----------------------------------------------------------

var (
	wrkLatency = regexp.MustCompile(`(?m)^\s*(50|99)%\s+([0-9.]+)(us|ms|s)\s*$`)
	wrkRate    = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)`)
	wrkTotal   = regexp.MustCompile(`(?m)^\s*(\d+) requests in`)
	wrkNon2xx  = regexp.MustCompile(`(?m)^\s*Non-2xx or 3xx responses:\s+(\d+)`)
	wrkSocket  = regexp.MustCompile(`(?m)^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

func runWrk(o options, d time.Duration) string {
	secs := int(math.Ceil(d.Seconds()))
	if secs < 1 {
		secs = 1
	}
	args := []string{"-t", strconv.Itoa(o.threads), "-c", strconv.Itoa(o.conns),
		"-d", fmt.Sprintf("%ds", secs), "--timeout", "5s", "--latency", "http://" + o.addr + "/"}
	cmd := exec.Command(o.wrk, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		fail("%s %s: %v\n%s%s", o.wrk, strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String()
}

func httpHello(o options) {
	if _, err := exec.LookPath(o.wrk); err != nil {
		fail("%s not found: install the Debian package wrk (scripts/install-deps --bench)", o.wrk)
	}
	raiseNoFile(o.conns + 64)
	watchdog(30*time.Second + o.warmup + o.duration + 2*time.Second)
	if problems := httpCheck(o.addr); len(problems) > 0 {
		fail("%s: the server at %s does not answer as the spec says:\n  %s", o.name, o.addr, strings.Join(problems, "\n  "))
	}
	if o.warmup > 0 {
		runWrk(o, o.warmup)
	}
	out := runWrk(o, o.duration)
	num := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			fail("cannot parse %q in wrk's output:\n%s", s, out)
		}
		return v
	}
	rate := wrkRate.FindStringSubmatch(out)
	total := wrkTotal.FindStringSubmatch(out)
	lats := wrkLatency.FindAllStringSubmatch(out, -1)
	if rate == nil || total == nil || len(lats) != 2 {
		fail("unexpected wrk output:\n%s", out)
	}
	lat := map[string]float64{}
	for _, m := range lats {
		scale := map[string]float64{"us": 1, "ms": 1e3, "s": 1e6}[m[3]]
		lat[m[1]] = num(m[2]) * scale
	}
	requests := num(total[1])
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil && num(m[1]) > 0 {
		fail("%s: %s of %.0f answers were not 2xx:\n%s", o.name, m[1], requests, out)
	}
	label := fmt.Sprintf("wrk -t%d -c%d, %v window", o.threads, o.conns, o.duration)
	if m := wrkSocket.FindStringSubmatch(out); m != nil {
		if num(m[1]) > 0 {
			fail("%s: wrk could not connect (%s connect errors):\n%s", o.name, m[1], out)
		}
		if errs := num(m[2]) + num(m[3]) + num(m[4]); errs > 0 {
			if errs > requests/100 {
				fail("%s: %.0f socket errors in %.0f requests:\n%s", o.name, errs, requests, out)
			}
			label += fmt.Sprintf(", %.0f socket errors", errs)
		}
	}
	emit(o.name, []fig{
		{"req_per_s", num(rate[1])},
		{"p50_us", lat["50"]},
		{"p99_us", lat["99"]},
	}, label)
}

// ---- main ---------------------------------------------------------------------------

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	mode := os.Args[1]
	defaults := map[string][2]int{ // conns, size
		"echo_pingpong": {1000, 64},
		"echo_stream":   {4, 512},
		"http_hello":    {100, 0},
		"http_check":    {1, 0},
	}
	def, ok := defaults[mode]
	if !ok {
		usage()
	}
	var o options
	fs := flag.NewFlagSet(mode, flag.ExitOnError)
	fs.StringVar(&o.addr, "addr", "", "server address, HOST:PORT (loopback only)")
	fs.StringVar(&o.name, "name", mode, "record name printed in the JSON line")
	fs.IntVar(&o.conns, "conns", def[0], "connections")
	fs.IntVar(&o.size, "size", def[1], "message or write size in bytes")
	fs.IntVar(&o.threads, "threads", 2, "wrk threads (http_hello)")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured warm-up")
	fs.DurationVar(&o.duration, "duration", 3*time.Second, "measured window")
	fs.StringVar(&o.wrk, "wrk", "wrk", "the wrk executable (http_hello)")
	fs.Parse(os.Args[2:])
	if fs.NArg() > 0 {
		fail("unexpected argument %q", fs.Arg(0))
	}
	if o.addr == "" {
		fail("--addr is required")
	}
	checkLoopback(o.addr)
	switch {
	case o.conns < 1 || o.conns > 100000:
		fail("--conns %d: want 1..100000", o.conns)
	case (mode == "echo_pingpong" || mode == "echo_stream") && (o.size < 1 || o.size > 1<<20):
		fail("--size %d: want 1..1048576", o.size)
	case o.duration <= 0 || o.duration > 10*time.Minute || o.warmup < 0 || o.warmup > time.Minute:
		fail("--duration %v / --warmup %v out of range", o.duration, o.warmup)
	case o.threads < 1 || o.threads > o.conns && mode == "http_hello":
		fail("--threads %d: want 1..conns", o.threads)
	}
	switch mode {
	case "echo_pingpong":
		echoPingpong(o)
	case "echo_stream":
		echoStream(o)
	case "http_hello":
		httpHello(o)
	case "http_check":
		if problems := httpCheck(o.addr); len(problems) > 0 {
			fail("the server at %s does not answer as the spec says:\n  %s", o.addr, strings.Join(problems, "\n  "))
		}
		fmt.Println("http_check: ok")
	}
}
