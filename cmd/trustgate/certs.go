package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/trustgate/trustgate/certcheck"
	"github.com/trustgate/trustgate/certs"
)

const certsWarning = "A file-backed PKI for development and tests only: keys are stored unencrypted\nunder DIR/.pki, and the CA is as trustworthy as that directory."

// runCerts is `trustgate certs`: init, issue, revoke and crl on a
// development PKI directory.
func runCerts(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		certsUsage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		certsUsage(stdout)
		return 0
	case "init":
		return certsInit(args[1:], stdout, stderr)
	case "issue":
		return certsIssue(args[1:], stdout, stderr)
	case "revoke":
		return certsRevoke(args[1:], stdout, stderr)
	case "crl":
		return certsCRL(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "trustgate certs: unknown command %q\n\n", args[0])
	certsUsage(stderr)
	return 2
}

func certsUsage(w io.Writer) {
	fmt.Fprintf(w, `Usage: trustgate certs <command> [flags]

%s

Commands:
  init     create a root CA (--intermediate: and an intermediate CA), their CRLs
           and the CA-only secret directory DIR/client-ca
  issue    issue server|client: a certificate in DIR/<name>/{tls.crt,tls.key,ca.crt,ca.crl}
  revoke   record a certificate as revoked (published by the next 'crl')
  crl      re-issue the CRL of every CA and refresh every ca.crl

The output directory can be passed to trustgate as --secrets-dir DIR.
Run 'trustgate certs <command> --help' for the flags of a command.
`, certsWarning)
}

// newCertsFlags makes a flag set whose --help explains the command.
func newCertsFlags(name, synopsis, about string) *flag.FlagSet {
	fs := flag.NewFlagSet("certs "+name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: trustgate certs %s\n\n%s\n\n%s\n\nFlags:\n", synopsis, about, certsWarning)
		fs.PrintDefaults()
	}
	return fs
}

func certsInit(args []string, stdout, stderr io.Writer) int {
	fs := newCertsFlags("init", "init --dir DIR [flags]",
		"Creates a root CA (and with --intermediate an intermediate CA signed by it), a first\nCRL for each, and DIR/<ca-secret-name>/{ca.crt,ca.crl} for client-certificate validation.")
	dir := fs.String("dir", "", "PKI `DIR` (required)")
	var opts certs.InitOptions
	fs.StringVar(&opts.CommonName, "cn", certs.DefaultCommonName, "root CA common `name`")
	fs.BoolVar(&opts.Intermediate, "intermediate", false, "also create an intermediate CA; leaves are then issued by it unless --issuer root")
	fs.IntVar(&opts.Days, "days", certs.DefaultCADays, "CA validity in `days`")
	fs.IntVar(&opts.CRLDays, "crl-days", certs.DefaultCRLDays, "default CRL nextUpdate, in `days`")
	keyType := fs.String("key", string(certs.KeyECDSA), "CA key `type`: ecdsa (P-256) or rsa (2048)")
	fs.StringVar(&opts.CASecretName, "ca-secret-name", certs.DefaultCASecretName, "`name` of the CA-only secret directory")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if code, bad := checkCertsFlags(fs, stderr, *dir, *keyType, opts.Days, opts.CRLDays); bad {
		return code
	}
	opts.Key = certs.KeyType(*keyType)
	if err := certs.Init(*dir, opts); err != nil {
		fmt.Fprintf(stderr, "trustgate certs init: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "Created the development CA %q in %s (for development and tests only).\n", opts.CommonName, filepath.Join(*dir, certs.StateDir))
	if opts.Intermediate {
		fmt.Fprintf(stdout, "Created the intermediate CA %q; leaves are issued by it by default.\n", opts.CommonName+" intermediate")
	}
	fmt.Fprintf(stdout, "Client CA secret: %s/{%s,%s}\n", filepath.Join(*dir, opts.CASecretName), certs.FileCA, certs.FileCRL)
	return 0
}

// checkCertsFlags checks the flags shared by the subcommands; bad is true
// with the exit code when one is wrong.
func checkCertsFlags(fs *flag.FlagSet, stderr io.Writer, dir, keyType string, days ...int) (code int, bad bool) {
	switch {
	case fs.NArg() > 0:
		return usageError(stderr, fs, "unexpected argument %q", fs.Arg(0)), true
	case dir == "":
		return usageError(stderr, fs, "--dir is required"), true
	case keyType != string(certs.KeyECDSA) && keyType != string(certs.KeyRSA):
		return usageError(stderr, fs, "--key %q: want ecdsa or rsa", keyType), true
	}
	for _, d := range days {
		if d <= 0 {
			return usageError(stderr, fs, "validity %d: days must be positive", d), true
		}
	}
	return 0, false
}

// issueFlags are the flags shared by `issue server` and `issue client`.
type issueFlags struct {
	dir, keyType, namespace string
	secretYAML              bool
	opts                    certs.IssueOptions
}

func (f *issueFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.dir, "dir", "", "PKI `DIR` (required)")
	fs.StringVar(&f.opts.Name, "name", "", "secret `name`: the certificate goes to DIR/<name>/ (required)")
	fs.IntVar(&f.opts.Days, "days", certs.DefaultLeafDays, "validity in `days`")
	fs.StringVar(&f.keyType, "key", string(certs.KeyECDSA), "key `type`: ecdsa (P-256) or rsa (2048)")
	fs.StringVar(&f.opts.Issuer, "issuer", "", "issuing CA: root or intermediate (default: the intermediate if the PKI has one)")
	fs.BoolVar(&f.opts.Replace, "replace", false, "replace an existing certificate of that name (rotation)")
	fs.BoolVar(&f.secretYAML, "secret-yaml", false, "also print a Kubernetes v1 Secret (stringData) on stdout; the summary then goes to stderr")
	fs.StringVar(&f.namespace, "namespace", "default", "`namespace` of the Secret printed by --secret-yaml")
}

func certsIssue(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		w, code := stderr, 2
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
			w, code = stdout, 0
		}
		fmt.Fprintf(w, "Usage: trustgate certs issue server|client --dir DIR --name NAME [flags]\n\n%s\n\nRun 'trustgate certs issue server --help' or '... client --help' for the flags.\n", certsWarning)
		return code
	}
	kind := certs.Kind(args[0])
	var f issueFlags
	var hosts, uris, dnsNames, emails stringList
	var fs *flag.FlagSet
	switch kind {
	case certs.KindServer:
		fs = newCertsFlags("issue server", "issue server --dir DIR --name NAME --host HOST [--host HOST...] [flags]",
			"Issues a server certificate (extendedKeyUsage serverAuth). Every host becomes a SAN\n(IP addresses as IP SANs); the first is also the common name.")
		fs.Var(&hosts, "host", "`HOST` the certificate serves: a DNS name, *.wildcard or IP (repeatable, required)")
	case certs.KindClient:
		fs = newCertsFlags("issue client", "issue client --dir DIR --name NAME --cn CN [flags]",
			"Issues a client certificate (extendedKeyUsage clientAuth).")
		fs.StringVar(&f.opts.CommonName, "cn", "", "subject common `name` (required)")
		fs.Var(&uris, "uri", "`URI` SAN, e.g. spiffe://example.org/ns/default/sa/app (repeatable)")
		fs.Var(&dnsNames, "dns", "`DNS` SAN (repeatable)")
		fs.Var(&emails, "email", "`EMAIL` SAN (repeatable)")
		fs.StringVar(&f.opts.Organization, "o", "", "subject `organization`")
	default:
		fmt.Fprintf(stderr, "trustgate certs issue: unknown kind %q: want server or client\n", args[0])
		return 2
	}
	f.register(fs)
	if code, done := parseFlags(fs, args[1:], stdout, stderr); done {
		return code
	}
	if code, bad := checkCertsFlags(fs, stderr, f.dir, f.keyType, f.opts.Days); bad {
		return code
	}
	f.opts.Hosts, f.opts.URIs, f.opts.DNSNames, f.opts.Emails = hosts, uris, dnsNames, emails
	f.opts.Key = certs.KeyType(f.keyType)
	switch {
	case f.opts.Name == "":
		return usageError(stderr, fs, "--name is required")
	case kind == certs.KindServer && len(hosts) == 0:
		return usageError(stderr, fs, "at least one --host is required")
	case kind == certs.KindClient && f.opts.CommonName == "":
		return usageError(stderr, fs, "--cn is required")
	case f.opts.Issuer != "" && f.opts.Issuer != certs.CARoot && f.opts.Issuer != certs.CAIntermediate:
		return usageError(stderr, fs, "--issuer %q: want root or intermediate", f.opts.Issuer)
	}
	return issue(kind, f, stdout, stderr)
}

// issue runs an issue command whose flags are valid.
func issue(kind certs.Kind, f issueFlags, stdout, stderr io.Writer) int {
	is, err := certs.Issue(f.dir, kind, f.opts)
	if err != nil {
		fmt.Fprintf(stderr, "trustgate certs issue %s: %v\n", kind, err)
		return 1
	}
	summary := stdout
	if f.secretYAML {
		y, err := is.SecretYAML(f.namespace)
		if err != nil {
			fmt.Fprintf(stderr, "trustgate certs issue %s: %v\n", kind, err)
			return 1
		}
		if _, err := stdout.Write(y); err != nil {
			fmt.Fprintf(stderr, "trustgate certs issue %s: %v\n", kind, err)
			return 1
		}
		summary = stderr
	}
	fmt.Fprintf(summary, "Issued %s certificate %q (serial %s) in %s/{%s,%s,%s,%s}\n  chain: %s\n",
		kind, is.Name, is.Serial, is.Dir, certs.FileCert, certs.FileKey, certs.FileCA, certs.FileCRL,
		certcheck.SummarizeChain(is.CertPEM))
	return 0
}

func certsRevoke(args []string, stdout, stderr io.Writer) int {
	fs := newCertsFlags("revoke", "revoke --dir DIR --name NAME",
		"Records the current certificate of NAME as revoked. The CRLs list it once\n'trustgate certs crl' has published them again.")
	dir := fs.String("dir", "", "PKI `DIR` (required)")
	name := fs.String("name", "", "secret `name` of the certificate (required)")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if code, bad := checkCertsFlags(fs, stderr, *dir, string(certs.KeyECDSA)); bad {
		return code
	}
	if *name == "" {
		return usageError(stderr, fs, "--name is required")
	}
	serial, err := certs.Revoke(*dir, *name, time.Time{})
	if err != nil {
		fmt.Fprintf(stderr, "trustgate certs revoke: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "Revoked %q (serial %s). Run 'trustgate certs crl --dir %s' to publish it.\n", *name, serial, *dir)
	return 0
}

func certsCRL(args []string, stdout, stderr io.Writer) int {
	fs := newCertsFlags("crl", "crl --dir DIR [--crl-days N]",
		"Re-issues the CRL of every CA (root and intermediate each sign their own: Envoy needs\na CRL for every CA of a chain once it has one for any), with the CRL number\nincremented, and refreshes ca.crl in every secret directory of DIR.")
	dir := fs.String("dir", "", "PKI `DIR` (required)")
	var opts certs.CRLOptions
	fs.IntVar(&opts.Days, "crl-days", 0, "nextUpdate in `days` (default: the PKI's, set by init)")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if code, bad := checkCertsFlags(fs, stderr, *dir, string(certs.KeyECDSA)); bad {
		return code
	}
	if opts.Days < 0 {
		return usageError(stderr, fs, "--crl-days %d: must be positive", opts.Days)
	}
	if err := certs.WriteCRLs(*dir, opts); err != nil {
		fmt.Fprintf(stderr, "trustgate certs crl: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "Published the CRLs and refreshed every %s in %s.\n", certs.FileCRL, *dir)
	return 0
}
