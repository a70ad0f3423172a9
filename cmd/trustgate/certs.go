package main

import (
	"errors"
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
  init     create a root CA (--intermediate: and an intermediate CA) and the CA-only
           secret directory DIR/client-ca; --crl also publishes a first CRL per CA
  issue    issue server|client: a certificate in DIR/<name>/{tls.crt,tls.key,ca.crt[,ca.crl]}
  revoke   revoke a certificate and publish the CRLs
  crl      publish a fresh CRL for every CA and write it to every ca.crl

No CRL exists until one is asked for (init --crl, crl) or a certificate is revoked:
a CRL expires at its nextUpdate, and Envoy then rejects every client of its CA.
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
		"Creates a root CA (and with --intermediate an intermediate CA signed by it) and\nDIR/<ca-secret-name>/ca.crt for client-certificate validation. With --crl it also\npublishes a first CRL for each CA (DIR/<ca-secret-name>/ca.crl); without it, no CRL\nexists until 'trustgate certs revoke' or 'trustgate certs crl'.")
	dir := fs.String("dir", "", "PKI `DIR` (required)")
	var opts certs.InitOptions
	fs.StringVar(&opts.CommonName, "cn", "", "root CA common `name` (default \""+certs.DefaultCommonName+"\")")
	var sf subjectFlags
	sf.register(fs)
	fs.BoolVar(&opts.Intermediate, "intermediate", false, "also create an intermediate CA; leaves are then issued by it unless --issuer root")
	fs.IntVar(&opts.Days, "days", certs.DefaultCADays, "CA validity in `days`")
	fs.BoolVar(&opts.CRL, "crl", false, "publish a first CRL for each CA now (it must then be renewed before its nextUpdate)")
	fs.IntVar(&opts.CRLDays, "crl-days", certs.DefaultCRLDays, "validity of the CRLs this PKI publishes (nextUpdate), in `days`")
	keyType := fs.String("key", string(certs.KeyECDSA), "CA key `type`: ecdsa (P-256) or rsa (2048)")
	fs.StringVar(&opts.CASecretName, "ca-secret-name", certs.DefaultCASecretName, "`name` of the CA-only secret directory")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if code, bad := checkCertsFlags(fs, stderr, *dir, *keyType, opts.Days, opts.CRLDays); bad {
		return code
	}
	if err := sf.check(opts.CommonName); err != nil {
		return usageError(stderr, fs, "%v", err)
	}
	opts.Key, opts.Subject = certs.KeyType(*keyType), sf.subject()
	if err := certs.Init(*dir, opts); err != nil {
		fmt.Fprintf(stderr, "trustgate certs init: %v\n", err)
		return 1
	}
	if err := initSummary(stdout, *dir, opts); err != nil {
		fmt.Fprintf(stderr, "trustgate certs init: %v\n", err)
		return 1
	}
	if opts.CRL {
		return crlSummary(stdout, stderr, *dir, "certs init")
	}
	return 0
}

// initSummary says what init made, naming the CAs as Envoy prints them.
func initSummary(w io.Writer, dir string, opts certs.InitOptions) error {
	cas, err := certs.CAs(dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Created the development CA %q in %s (for development and tests only).\n", cas[0], filepath.Join(dir, certs.StateDir))
	if len(cas) > 1 {
		fmt.Fprintf(w, "Created the intermediate CA %q; leaves are issued by it by default.\n", cas[1])
	}
	secret := filepath.Join(dir, opts.CASecretName)
	if !opts.CRL {
		fmt.Fprintf(w, "Client CA secret: %s/%s (no CRL: nothing is revoked; 'trustgate certs revoke' or 'trustgate certs crl' publishes one).\n", secret, certs.FileCA)
		return nil
	}
	fmt.Fprintf(w, "Client CA secret: %s/{%s,%s}\n", secret, certs.FileCA, certs.FileCRL)
	return nil
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
	subject                 subjectFlags
	opts                    certs.IssueOptions
}

func (f *issueFlags) register(fs *flag.FlagSet) {
	f.subject.register(fs)
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
		fs.StringVar(&f.opts.CommonName, "cn", "", "subject common `name` (default: the first --host)")
	case certs.KindClient:
		fs = newCertsFlags("issue client", "issue client --dir DIR --name NAME (--cn CN | --subject DN) [flags]",
			"Issues a client certificate (extendedKeyUsage clientAuth). The summary shows its subject\nas Envoy prints it (%DOWNSTREAM_PEER_SUBJECT%), the value authorization rules match.")
		fs.StringVar(&f.opts.CommonName, "cn", "", "subject common `name` (required unless --subject names one)")
		fs.Var(&uris, "uri", "`URI` SAN, e.g. spiffe://example.org/ns/default/sa/app (repeatable)")
		fs.Var(&dnsNames, "dns", "`DNS` SAN (repeatable)")
		fs.Var(&emails, "email", "`EMAIL` SAN (repeatable)")
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
	f.opts.Key, f.opts.Subject = certs.KeyType(f.keyType), f.subject.subject()
	if err := f.subject.check(f.opts.CommonName); err != nil {
		return usageError(stderr, fs, "%v", err)
	}
	switch {
	case f.opts.Name == "":
		return usageError(stderr, fs, "--name is required")
	case kind == certs.KindServer && len(hosts) == 0:
		return usageError(stderr, fs, "at least one --host is required")
	case kind == certs.KindClient && f.opts.CommonName == "" && f.opts.Subject.DN == "":
		return usageError(stderr, fs, "--cn (or --subject) is required")
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
	files := []string{certs.FileCert, certs.FileKey, certs.FileCA}
	if len(is.CRLPEM) > 0 {
		files = append(files, certs.FileCRL)
	}
	subject, err := certs.PrintedSubject(is.Cert)
	if err != nil {
		fmt.Fprintf(stderr, "trustgate certs issue %s: %v\n", kind, err)
		return 1
	}
	fmt.Fprintf(summary, "Issued %s certificate %q (serial %s) in %s/{%s}\n  subject: %s\n  chain: %s\n",
		kind, is.Name, is.Serial.Text(16), is.Dir, strings.Join(files, ","), subject,
		certcheck.SummarizeChain(is.CertPEM))
	return 0
}

func certsRevoke(args []string, stdout, stderr io.Writer) int {
	fs := newCertsFlags("revoke", "revoke --dir DIR --name NAME [--crl-days N] [--publish=false]",
		"Revokes the current certificate of NAME and publishes a fresh CRL for every CA into every\nca.crl of DIR (the first revocation starts CRL publication). With --publish=false the\nrevocation is only recorded, and the next 'trustgate certs crl' publishes it.")
	dir := fs.String("dir", "", "PKI `DIR` (required)")
	name := fs.String("name", "", "secret `name` of the certificate (required)")
	publish := fs.Bool("publish", true, "publish the CRLs now")
	var opts certs.CRLOptions
	fs.IntVar(&opts.Days, "crl-days", 0, "validity of the published CRLs (nextUpdate) in `days` (default: the PKI's, set by init)")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if code, bad := checkCertsFlags(fs, stderr, *dir, string(certs.KeyECDSA)); bad {
		return code
	}
	if *name == "" {
		return usageError(stderr, fs, "--name is required")
	}
	if opts.Days < 0 {
		return usageError(stderr, fs, "--crl-days %d: must be positive", opts.Days)
	}
	serial, err := certs.Revoke(*dir, *name, time.Time{})
	if err != nil {
		fmt.Fprintf(stderr, "trustgate certs revoke: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "Revoked %q (serial %s).\n", *name, serial.Text(16))
	if !*publish {
		fmt.Fprintf(stdout, "Not published yet: run 'trustgate certs crl --dir %s' to put it in the CRLs.\n", *dir)
		return 0
	}
	if err := certs.WriteCRLs(*dir, opts); err != nil {
		fmt.Fprintf(stderr, "trustgate certs revoke: %v\n", err)
		return 1
	}
	return crlSummary(stdout, stderr, *dir, "certs revoke")
}

func certsCRL(args []string, stdout, stderr io.Writer) int {
	fs := newCertsFlags("crl", "crl --dir DIR [--crl-days N]",
		"Publishes a fresh CRL for every CA (root and intermediate each sign their own: Envoy needs\na CRL for every CA of a chain once it has one for any), with the CRL number\nincremented, and writes it to ca.crl in every secret directory of DIR. On a PKI without\nCRLs this starts CRL publication. A CRL is valid until its nextUpdate: run this again\nbefore then (from cron, say), or Envoy rejects every client of the CA.")
	dir := fs.String("dir", "", "PKI `DIR` (required)")
	var opts certs.CRLOptions
	fs.IntVar(&opts.Days, "crl-days", 0, "validity of the CRLs (nextUpdate) in `days` (default: the PKI's, set by init)")
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
	return crlSummary(stdout, stderr, *dir, "certs crl")
}

// crlSummary says which CRLs the PKI publishes, until when they are valid,
// what happens then, and how to renew them.
func crlSummary(stdout, stderr io.Writer, dir, cmd string) int {
	infos, err := certs.CRLs(dir)
	if err != nil {
		fmt.Fprintf(stderr, "trustgate %s: %v\n", cmd, err)
		return 1
	}
	if len(infos) == 0 {
		fmt.Fprintf(stderr, "trustgate %s: %s publishes no CRL\n", cmd, dir)
		return 1
	}
	next := infos[0].NextUpdate
	for _, in := range infos {
		fmt.Fprintf(stdout, "Published the CRL of the %s CA: number %d, %d revoked, valid until %s (%s).\n",
			in.CA, in.Number, in.Revoked, in.NextUpdate.UTC().Format(time.RFC3339), validity(in.NextUpdate.Sub(in.ThisUpdate)))
		if in.NextUpdate.Before(next) {
			next = in.NextUpdate
		}
	}
	fmt.Fprintf(stdout, "Wrote them to every %s in %s.\n", certs.FileCRL, dir)
	fmt.Fprintf(stdout, "After %s Envoy rejects every client certificate of these CAs, revoked or not, until a\n"+
		"fresh CRL is published: renew before then with 'trustgate certs crl --dir %s' (from cron, say;\n"+
		"--crl-days sets the validity). 'trustgate check' and 'trustgate serve' warn as the date nears.\n",
		next.UTC().Format(time.RFC3339), dir)
	return 0
}

// validity renders a CRL's lifetime in days and hours ("30 days").
func validity(d time.Duration) string {
	d = d.Round(time.Hour)
	days, hours := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	switch {
	case hours == 0 && days == 1:
		return "1 day"
	case hours == 0:
		return fmt.Sprintf("%d days", days)
	case days == 0:
		return fmt.Sprintf("%d hours", hours)
	}
	return fmt.Sprintf("%d days %d hours", days, hours)
}

// subjectFlags are the subject options of init and issue.
type subjectFlags struct {
	org, ou                     repeated
	locality, province, country string
	dn                          string
}

func (f *subjectFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.org, "org", "subject `organization` (O; repeatable)")
	fs.Var(&f.ou, "ou", "subject organizational `unit` (OU; repeatable)")
	fs.StringVar(&f.locality, "locality", "", "subject `locality` (L)")
	fs.StringVar(&f.province, "state", "", "subject `state` or province (ST)")
	fs.StringVar(&f.country, "country", "", "subject `country` (C): two letters")
	fs.StringVar(&f.dn, "subject", "", "the whole subject `DN`, in the order written, instead of --cn and the flags above: as Envoy prints it\n"+
		"(\"CN=app,L=eu10,OU=Clients,O=Example SE,C=DE\") or as openssl -subj (\"/C=DE/O=Example SE/OU=Clients/L=eu10/CN=app\")")
}

// check rejects --subject combined with --cn or a single-attribute flag:
// the DN is the whole subject.
func (f *subjectFlags) check(cn string) error {
	if f.dn != "" && (cn != "" || len(f.org)+len(f.ou) > 0 || f.locality+f.province+f.country != "") {
		return errors.New("--subject is the whole subject: put CN, O, OU, L, ST and C inside it instead of --cn, --org, --ou, --locality, --state or --country")
	}
	return nil
}

func (f *subjectFlags) subject() certs.Subject {
	return certs.Subject{
		Organization: f.org, OrganizationalUnit: f.ou,
		Locality: f.locality, Province: f.province, Country: f.country, DN: f.dn,
	}
}

// repeated is a repeatable flag whose values are taken whole (an
// organization may contain a comma).
type repeated []string

func (r *repeated) String() string { return strings.Join(*r, "; ") }

func (r *repeated) Set(v string) error {
	*r = append(*r, v)
	return nil
}
