package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/trustgate/trustgate/explain"
	"github.com/trustgate/trustgate/pipeline"
)

func runExplain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	var cf configFlags
	cf.register(fs)
	var q explain.Query
	var headers headerList
	var alpn stringList
	labels := fs.String("node-labels", "", "node metadata labels of the proxy group, `k=v,...` (default: the only Gateway selector in the configuration)")
	port := fs.Uint("port", 0, "destination `port` of the connection (required)")
	fs.StringVar(&q.SNI, "sni", "", "server `name` in the TLS ClientHello (none if empty)")
	fs.StringVar(&q.CertFile, "cert", "", "client certificate `CHAIN.pem` to present, leaf first")
	fs.BoolVar(&q.Resumed, "resumed", false, "the client resumes an earlier TLS session")
	fs.StringVar(&q.Host, "host", "", "Host / :authority of the request (default: the SNI)")
	fs.StringVar(&q.Path, "path", "/", "request `path` with its query")
	fs.StringVar(&q.Method, "method", "GET", "request `method`")
	fs.Var(&headers, "H", "request header `'Name: value'` (repeatable)")
	fs.StringVar(&q.SourceIP, "source-ip", explain.DefaultSourceIP, "client `address`")
	fs.StringVar(&q.TLS, "transport", "", "tls or plaintext (default: tls when the port's listener terminates or inspects TLS, or when --sni, --cert or --resumed is given)")
	fs.Var(&alpn, "alpn", "ALPN `protocols` the client offers over TLS (default h2,http/1.1)")
	output := fs.String("o", "text", "output format: text or json")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: trustgate explain --config PATH... [--secrets-dir DIR] [--node-labels k=v,...] --port N [--sni NAME] [--cert CHAIN.pem] [--resumed] [--host HOST] [--path PATH] [--method M] [-H 'Name: value']... [-o text|json]")
		fmt.Fprintln(fs.Output(), "\nExplains what Envoy would do with one connection and request on the configuration `serve` would send it:")
		fmt.Fprintln(fs.Output(), "filter chain, TLS verdict, RBAC policies, route, and the headers that reach the backend.")
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if *output != "text" && *output != "json" {
		return usageError(stderr, fs, "-o must be text or json, not %q", *output)
	}
	if *port == 0 || *port > 65535 {
		return usageError(stderr, fs, "--port is required (1-65535)")
	}
	opts, err := cf.options(fs)
	if err != nil {
		return usageError(stderr, fs, "%v", err)
	}
	q.Port, q.Headers = uint32(*port), []string(headers)
	if len(alpn) > 0 {
		q.ALPN = alpn
	}
	cfg, err := pipeline.Load(opts, pipeline.ForServe())
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	node, err := nodeFor(cfg, "", *labels)
	if err != nil {
		return usageError(stderr, fs, "%v", err)
	}
	trace, err := explain.Explain(cfg, node, q, time.Now())
	if err != nil {
		fmt.Fprintln(stderr, "trustgate explain:", err)
		return 1
	}
	render := explain.Text
	if *output == "json" {
		render = explain.JSON
	}
	if err := render(stdout, trace); err != nil {
		fmt.Fprintln(stderr, "trustgate explain:", err)
		return 1
	}
	return 0
}

// headerList is a repeatable flag kept whole: a header value may hold
// commas (a subject "CN=a,O=b").
type headerList []string

func (h *headerList) String() string { return fmt.Sprint([]string(*h)) }

func (h *headerList) Set(v string) error {
	*h = append(*h, v)
	return nil
}
