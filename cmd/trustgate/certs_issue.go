package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trustgate/trustgate/certcheck"
	"github.com/trustgate/trustgate/certs"
)

// newCertsIssueCmd is `certs issue server|client`.
func newCertsIssueCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "issue server|client --dir DIR --name NAME",
		Short: "issue a server or client certificate into DIR/<name>/{tls.crt,tls.key,ca.crt[,ca.crl]}",
		Long:  "Issues a server or a client certificate.\n\n" + certsWarning,
		RunE: action(func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown kind %q: want server or client", args[0])
			}
			fmt.Fprint(cmd.ErrOrStderr(), cmd.UsageString())
			return exitCode(2)
		}),
	}
	cmd.AddCommand(newIssueServerCmd(), newIssueClientCmd())
	return cmd
}

// issueFlags are the flags shared by `issue server` and `issue client`.
type issueFlags struct {
	pki        pkiFlags
	namespace  string
	secretYAML bool
	subject    subjectFlags
	opts       certs.IssueOptions
}

func (f *issueFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	f.subject.register(fs)
	f.pki.register(cmd, true, "key `type`: ecdsa (P-256) or rsa (2048)")
	fs.StringVar(&f.opts.Name, "name", "", "secret `name`: the certificate goes to DIR/<name>/ (required)")
	fs.IntVar(&f.opts.Days, "days", certs.DefaultLeafDays, "validity in `days`")
	fs.StringVar(&f.opts.Issuer, "issuer", "", "issuing `CA`: root or intermediate (default: the intermediate if the PKI has one)")
	enumFlag(cmd, "issuer", certs.CARoot, certs.CAIntermediate)
	fs.BoolVar(&f.opts.Replace, "replace", false, "replace an existing certificate of that name (rotation)")
	fs.BoolVar(&f.secretYAML, "secret-yaml", false, "also print a Kubernetes v1 Secret (stringData) on stdout; the summary then goes to stderr")
	fs.StringVar(&f.namespace, "namespace", "default", "`namespace` of the Secret printed by --secret-yaml")
}

// check checks the shared flags.
func (f *issueFlags) check(cmd *cobra.Command) error {
	if err := f.pki.check(cmd, f.opts.Days); err != nil {
		return err
	}
	if err := f.subject.check(f.opts.CommonName); err != nil {
		return usageError{err}
	}
	switch {
	case f.opts.Name == "":
		return usagef("--name is required")
	case f.opts.Issuer != "" && f.opts.Issuer != certs.CARoot && f.opts.Issuer != certs.CAIntermediate:
		return usagef("--issuer %q: want root or intermediate", f.opts.Issuer)
	}
	f.opts.Key, f.opts.Subject = certs.KeyType(f.pki.keyType), f.subject.subject()
	return nil
}

func newIssueServerCmd() *cobra.Command {
	cmd := certsCmd("server --dir DIR --name NAME --host HOST...", "issue a server certificate",
		"Issues a server certificate (extendedKeyUsage serverAuth). Every host becomes a SAN\n(IP addresses as IP SANs); the first is also the common name.")
	var f issueFlags
	var hosts listFlag
	cmd.Flags().Var(&hosts, "host", "`HOST` the certificate serves: a DNS name, *.wildcard or IP (repeatable, or comma-separated; required)")
	cmd.Flags().StringVar(&f.opts.CommonName, "cn", "", "subject common `name` (default: the first --host)")
	f.register(cmd)
	cmd.RunE = action(func(cmd *cobra.Command, _ []string) error {
		if err := f.check(cmd); err != nil {
			return err
		}
		if len(hosts) == 0 {
			return usagef("at least one --host is required")
		}
		f.opts.Hosts = hosts
		return issue(cmd, certs.KindServer, f)
	})
	return cmd
}

func newIssueClientCmd() *cobra.Command {
	cmd := certsCmd("client --dir DIR --name NAME (--cn CN | --subject DN)", "issue a client certificate",
		"Issues a client certificate (extendedKeyUsage clientAuth). The summary shows its subject\nas Envoy prints it (%DOWNSTREAM_PEER_SUBJECT%), the value authorization rules match.")
	var f issueFlags
	var uris, dnsNames, emails listFlag
	fs := cmd.Flags()
	fs.StringVar(&f.opts.CommonName, "cn", "", "subject common `name` (required unless --subject names one)")
	fs.Var(&uris, "uri", "`URI` SAN, e.g. spiffe://example.org/ns/default/sa/app (repeatable)")
	fs.Var(&dnsNames, "dns", "`DNS` SAN (repeatable)")
	fs.Var(&emails, "email", "`EMAIL` SAN (repeatable)")
	f.register(cmd)
	cmd.RunE = action(func(cmd *cobra.Command, _ []string) error {
		if err := f.check(cmd); err != nil {
			return err
		}
		if f.opts.CommonName == "" && f.opts.Subject.DN == "" {
			return usagef("--cn (or --subject) is required")
		}
		f.opts.URIs, f.opts.DNSNames, f.opts.Emails = uris, dnsNames, emails
		return issue(cmd, certs.KindClient, f)
	})
	return cmd
}

// issue issues a certificate whose flags are valid and prints its summary.
func issue(cmd *cobra.Command, kind certs.Kind, f issueFlags) error {
	is, err := certs.Issue(f.pki.dir, kind, f.opts)
	if errors.Is(err, certs.ErrExists) {
		return fmt.Errorf("%w: --replace issues a new certificate under the name (rotation)", err)
	}
	if err != nil {
		return err
	}
	summary := cmd.OutOrStdout()
	if f.secretYAML {
		y, err := is.SecretYAML(f.namespace)
		if err != nil {
			return err
		}
		if _, err := cmd.OutOrStdout().Write(y); err != nil {
			return err
		}
		summary = cmd.ErrOrStderr()
	}
	files := []string{certs.FileCert, certs.FileKey, certs.FileCA}
	if len(is.CRLPEM) > 0 {
		files = append(files, certs.FileCRL)
	}
	subject, err := certs.PrintedSubject(is.Cert)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(summary, "Issued %s certificate %q (serial %s) in %s/{%s}\n  subject: %s\n  chain: %s\n",
		kind, is.Name, is.Serial.Text(16), is.Dir, strings.Join(files, ","), subject,
		certcheck.SummarizeChain(is.CertPEM))
	return err
}
