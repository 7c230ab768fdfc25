// healthsrv is a tiny HTTP service with a health endpoint and a greeting.
// With -selfcheck it starts on a free loopback port, calls itself and exits.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
)

func handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "ok")
	})
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("name")
		if name == "" {
			name = "world"
		}
		fmt.Fprintf(w, "hello, %s", name)
	})
	return mux
}

func get(base, path string) (int, string, error) {
	resp, err := http.Get(base + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(body)), err
}

func selfcheck() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go http.Serve(ln, handler())
	base := "http://" + ln.Addr().String()
	for _, path := range []string{"/healthz", "/hello?name=layers"} {
		code, body, err := get(base, path)
		if err != nil {
			return err
		}
		fmt.Printf("%s %d %s\n", path, code, body)
	}
	return nil
}

func main() {
	addr := flag.String("addr", ":8080", "listen address")
	check := flag.Bool("selfcheck", false, "serve on a loopback port, query it and exit")
	flag.Parse()
	if *check {
		if err := selfcheck(); err != nil {
			fmt.Fprintln(os.Stderr, "selfcheck:", err)
			os.Exit(1)
		}
		return
	}
	log.Printf("listening on %s", *addr)
	log.Fatal(http.ListenAndServe(*addr, handler()))
}
