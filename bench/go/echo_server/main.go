// The Go twin of goro's echo server for the echo_pingpong and echo_stream
// benchmarks (bench/README.md, "Network servers"): a goroutine per
// connection on raw `net`, which reads up to 32 KiB and writes back what it
// read until the peer closes.
//
//	goro_go_echo_server --addr 127.0.0.1:0 --procs 1
//
// Prints its bound address (127.0.0.1:PORT) on the first line of stdout and
// serves until SIGTERM or SIGINT. Standard library only (Go 1.19).
package main

import (
	"net"

	"gorobench/internal/serve"
)

func echo(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // io.EOF: the peer closed; anything else: it is gone
		}
	}
}

func main() {
	serve.Run(serve.Parse(), echo)
}
