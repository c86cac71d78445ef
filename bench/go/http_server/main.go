// The Go twins of goro's HTTP server for the http_hello benchmark
// (bench/README.md, "Network servers"), driven by wrk:
//
//	goro_go_http_server --addr 127.0.0.1:0 --procs 1            raw net (the target)
//	goro_go_http_server --addr 127.0.0.1:0 --procs 1 --nethttp  net/http (reference)
//
// The raw server is a goroutine per connection speaking a minimal HTTP/1.1:
// request line, headers, a Content-Length body (read and dropped),
// keep-alive (HTTP/1.1's default; HTTP/1.0 only with "Connection:
// keep-alive"), pipelined requests answered in order, and 400 Bad Request
// (then close) on anything else: a malformed request line or header, an
// unsupported version, Transfer-Encoding, a bad or conflicting
// Content-Length, a head over 8 KiB or 100 header lines. Every request gets
// the same answer: 200 with the 13-byte body "Hello, World!".
//
// Prints its bound address on the first line of stdout and serves until
// SIGTERM or SIGINT. Standard library only (Go 1.19).
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"net"
	"net/http"
	"strconv"
	"strings"

	"gorobench/internal/serve"
)

const (
	body        = "Hello, World!"
	okKeepAlive = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\n" + body
	okClose     = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nConnection: close\r\n\r\n" + body
	okKeep10    = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nConnection: keep-alive\r\n\r\n" + body
	badRequest  = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"

	maxHead        = 8 << 10 // request line + headers
	maxHeaderLines = 100
	maxBody        = 1 << 20
)

var errBad = errors.New("bad request")

// isToken reports whether b is a non-empty RFC 9110 token (method, header name).
func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// readLine returns one CRLF- (or LF-) terminated line without its end,
// counting it against the head budget.
func readLine(r *bufio.Reader, budget *int) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	*budget -= len(line)
	if err == bufio.ErrBufferFull || *budget < 0 {
		return nil, errBad
	}
	if err != nil {
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// readRequest reads one request head and drops its body. It returns the
// response to send, or an error: io.EOF (or another read error) when the
// peer is gone, errBad for a malformed request.
func readRequest(r *bufio.Reader) (string, error) {
	budget := maxHead
	line, err := readLine(r, &budget)
	for err == nil && len(line) == 0 { // RFC 9112 §2.2: ignore empty lines before a request
		line, err = readLine(r, &budget)
	}
	if err != nil {
		return "", err
	}
	parts := bytes.Split(line, []byte(" "))
	if len(parts) != 3 || !isToken(parts[0]) || len(parts[1]) == 0 {
		return "", errBad
	}
	var keepAlive bool
	switch string(parts[2]) {
	case "HTTP/1.1":
		keepAlive = true
	case "HTTP/1.0":
		keepAlive = false
	default:
		return "", errBad
	}
	http10 := !keepAlive
	contentLength := -1
	for lines := 0; ; lines++ {
		h, err := readLine(r, &budget)
		if err != nil {
			if err == errBad {
				return "", errBad
			}
			return "", err
		}
		if len(h) == 0 {
			break
		}
		if lines >= maxHeaderLines {
			return "", errBad
		}
		colon := bytes.IndexByte(h, ':')
		if colon <= 0 || !isToken(h[:colon]) {
			return "", errBad
		}
		name, value := h[:colon], bytes.TrimSpace(h[colon+1:])
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, err := strconv.Atoi(string(value))
			if err != nil || n < 0 || n > maxBody || value[0] == '+' ||
				(contentLength >= 0 && contentLength != n) {
				return "", errBad
			}
			contentLength = n
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return "", errBad // not supported by this minimal server
		case bytes.EqualFold(name, []byte("Connection")):
			for _, tok := range bytes.Split(value, []byte(",")) {
				tok = bytes.TrimSpace(tok)
				if bytes.EqualFold(tok, []byte("close")) {
					keepAlive = false
				} else if http10 && bytes.EqualFold(tok, []byte("keep-alive")) {
					keepAlive = true
				}
			}
		}
	}
	if contentLength > 0 {
		if _, err := r.Discard(contentLength); err != nil {
			return "", err
		}
	}
	switch {
	case !keepAlive:
		return okClose, nil
	case http10:
		return okKeep10, nil
	default:
		return okKeepAlive, nil
	}
}

func serveConn(c net.Conn) {
	defer c.Close()
	r := bufio.NewReaderSize(c, maxHead)
	w := bufio.NewWriterSize(c, 4<<10)
	for {
		resp, err := readRequest(r)
		if err == errBad {
			w.WriteString(badRequest)
			w.Flush()
			return
		}
		if err != nil {
			return
		}
		w.WriteString(resp)
		// Answer pipelined requests together; flush when nothing else waits.
		if r.Buffered() == 0 || resp == okClose {
			if w.Flush() != nil {
				return
			}
		}
		if resp == okClose {
			return
		}
	}
}

func main() {
	nethttp := flag.Bool("nethttp", false, "serve with net/http instead (reference)")
	f := serve.Parse()
	if !*nethttp {
		serve.Run(f, serveConn)
		return
	}
	ln := serve.Listen(f)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte(body))
	})
	serve.Fail("net/http: %v", (&http.Server{Handler: h}).Serve(ln))
}
