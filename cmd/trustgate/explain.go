package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/trustgate/trustgate/compile"
	"github.com/trustgate/trustgate/explain"
)

func newExplainCmd() *cobra.Command {
	var cf configFlags
	cmd := &cobra.Command{
		Use:   "explain " + configUse + " --port N",
		Short: "explain what Envoy would do with one connection and request",
		Long: "Explains what Envoy would do with one connection and request on the configuration `serve` would\n" +
			"send it: filter chain, TLS verdict, RBAC policies, route, and the headers that reach the backend.",
	}
	cf.register(cmd)
	fs := cmd.Flags()
	var q explain.Query
	var headers wholeFlag
	var alpn listFlag
	labels := nodeLabelsFlag(cmd, &cf)
	port := fs.Uint("port", 0, "destination `port` of the connection (required)")
	fs.StringVar(&q.SNI, "sni", "", "server `name` in the TLS ClientHello (none if empty)")
	fs.StringVar(&q.CertFile, "cert", "", "client certificate `CHAIN.pem` to present, leaf first")
	fs.BoolVar(&q.Resumed, "resumed", false, "the client resumes an earlier TLS session")
	fs.StringVar(&q.Host, "host", "", "`HOST` / :authority of the request (default: the SNI)")
	fs.StringVar(&q.Path, "path", "/", "request `path` with its query")
	fs.StringVar(&q.Method, "method", "GET", "request `method`")
	fs.VarP(&headers, "header", "H", "request header `'Name: value'` (repeatable)")
	fs.StringVar(&q.SourceIP, "source-ip", explain.DefaultSourceIP, "client `address`")
	fs.StringVar(&q.TLS, "transport", "", "`MODE`: tls or plaintext (default: tls when the port's listener terminates or inspects TLS, or when --sni, --cert or --resumed is given)")
	enumFlag(cmd, "transport", "tls", "plaintext")
	fs.Var(&alpn, "alpn", "ALPN `protocols` the client offers over TLS (default h2,http/1.1)")
	output := outputFlag(cmd, "text", "text", "json")
	_ = cmd.MarkFlagFilename("cert", "pem", "crt") // completion hint; the flag exists
	cmd.RunE = action(func(cmd *cobra.Command, args []string) error {
		if err := checkEnum("output", *output, "text", "json"); err != nil {
			return err
		}
		if *port == 0 || *port > 65535 {
			return usagef("--port is required (1-65535)")
		}
		opts, err := cf.options(args)
		if err != nil {
			return usageError{err}
		}
		q.Port, q.Headers = uint32(*port), []string(headers)
		if len(alpn) > 0 {
			q.ALPN = alpn
		}
		cfg, err := loadConfig(cmd, opts, compile.ForServe())
		if err != nil {
			return err
		}
		node, err := nodeFor(cfg, "", *labels)
		if err != nil {
			return usageError{err}
		}
		trace, err := explain.Explain(cfg, node, q, time.Now())
		if err != nil {
			return err
		}
		render := explain.Text
		if *output == "json" {
			render = explain.JSON
		}
		return render(cmd.OutOrStdout(), trace)
	})
	return cmd
}
