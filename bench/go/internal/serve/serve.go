// Package serve holds what the Go twin servers of goro's network benchmarks
// share: the command line (--addr, --procs), the file-descriptor limit,
// printing the bound address for scripts/bench, an accept loop that backs
// off under EMFILE (as net/http does), and exiting on SIGTERM/SIGINT.
//
// The contract every benchmark server follows, the goro ones included, is
// in bench/README.md ("Network servers").
package serve

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"
)

// Flags are the command line of every benchmark server.
type Flags struct {
	Addr  string
	Procs int
}

// Parse reads --addr and --procs (Go's flag package takes -x and --x alike).
func Parse() Flags {
	var f Flags
	flag.StringVar(&f.Addr, "addr", "127.0.0.1:0", "listen address (port 0 picks a free one)")
	flag.IntVar(&f.Procs, "procs", 1, "GOMAXPROCS")
	flag.Parse()
	if f.Procs < 1 {
		Fail("--procs must be >= 1, got %d", f.Procs)
	}
	if flag.NArg() > 0 {
		Fail("unexpected argument %q", flag.Arg(0))
	}
	return f
}

// Fail prints a message naming the program and exits 1.
func Fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "%s: "+format+"\n", append([]interface{}{os.Args[0]}, args...)...)
	os.Exit(1)
}

// RaiseNoFile sets RLIMIT_NOFILE's soft limit to the hard limit and returns
// it (Go 1.19 does this at start-up too; done here so the contract does not
// depend on it).
func RaiseNoFile() uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		Fail("getrlimit: %v", err)
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
			Fail("setrlimit(RLIMIT_NOFILE, %d): %v", rl.Max, err)
		}
	}
	return rl.Cur
}

// Run serves: Listen, then Accept, calling handle in a new goroutine for
// every accepted connection until SIGTERM or SIGINT, when it exits 0.
func Run(f Flags, handle func(net.Conn)) {
	Accept(Listen(f), handle)
}

// Listen sets GOMAXPROCS, raises the fd limit, listens on f.Addr, prints
// the bound address as the first line of stdout, and arranges for SIGTERM
// and SIGINT to exit 0.
func Listen(f Flags) net.Listener {
	runtime.GOMAXPROCS(f.Procs)
	RaiseNoFile()
	ln, err := net.Listen("tcp", f.Addr)
	if err != nil {
		Fail("listen %s: %v", f.Addr, err)
	}
	fmt.Println(ln.Addr().String()) // os.Stdout is unbuffered: the line leaves now

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		os.Exit(0)
	}()
	return ln
}

// Accept calls handle in a new goroutine for every connection accepted on
// ln, forever.
func Accept(ln net.Listener, handle func(net.Conn)) {
	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			// EMFILE/ENFILE and friends: back off and retry, as net/http's
			// Server.Serve does; anything else is fatal.
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) ||
				errors.Is(err, syscall.ENFILE) || errors.Is(err, syscall.ECONNABORTED) {
				if backoff == 0 {
					backoff = 5 * time.Millisecond
				} else if backoff < time.Second {
					backoff *= 2
				}
				fmt.Fprintf(os.Stderr, "%s: accept: %v; retrying in %v\n", os.Args[0], err, backoff)
				time.Sleep(backoff)
				continue
			}
			Fail("accept: %v", err)
		}
		backoff = 0
		go handle(c)
	}
}
