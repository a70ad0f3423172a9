package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/trustgate/trustgate/certs"
)

const certsWarning = "A file-backed PKI for development and tests only: keys are stored unencrypted\nunder DIR/.pki, and the CA is as trustworthy as that directory."

// newCertsCmd is `trustgate certs`: init, issue, revoke and crl on a
// development PKI directory.
func newCertsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "certs",
		Short: "a file-backed development PKI (for development and tests only)",
		Long: certsWarning + `

No CRL exists until one is asked for (init --crl, crl) or a certificate is revoked:
a CRL expires at its nextUpdate, and Envoy then rejects every client of its CA.
The output directory can be passed to trustgate as --secrets-dir DIR.`,
		RunE: missingCommand,
	}
	cmd.AddCommand(newCertsInitCmd(), newCertsIssueCmd(), newCertsRevokeCmd(), newCertsCRLCmd())
	return cmd
}

// certsCmd makes a certs subcommand whose --help carries the warning.
func certsCmd(use, short, about string) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Long: about + "\n\n" + certsWarning, Args: noArgs}
}

// pkiFlags are the flags every certs subcommand has.
type pkiFlags struct{ dir, keyType string }

func (f *pkiFlags) register(cmd *cobra.Command, withKey bool, keyUsage string) {
	fs := cmd.Flags()
	fs.StringVar(&f.dir, "dir", "", "PKI `DIR` (required)")
	_ = cmd.MarkFlagDirname("dir") // completion hint; the flag exists
	if withKey {
		fs.StringVar(&f.keyType, "key-type", string(certs.KeyECDSA), keyUsage)
		aliasFlag(fs, "key-type", "key")
		enumFlag(cmd, "key-type", string(certs.KeyECDSA), string(certs.KeyRSA))
	}
}

// check checks the flags shared by the subcommands and positive days.
func (f *pkiFlags) check(cmd *cobra.Command, days ...int) error {
	warnAlias(cmd, "key", "key-type")
	switch {
	case f.dir == "":
		return usagef("--dir is required")
	case f.keyType != "" && f.keyType != string(certs.KeyECDSA) && f.keyType != string(certs.KeyRSA):
		return usagef("--key-type %q: want ecdsa or rsa", f.keyType)
	}
	for _, d := range days {
		if d <= 0 {
			return usagef("validity %d: days must be positive", d)
		}
	}
	return nil
}

func newCertsInitCmd() *cobra.Command {
	cmd := certsCmd("init --dir DIR", "create a root CA (and an intermediate CA) and the CA-only secret directory",
		"Creates a root CA (and with --intermediate an intermediate CA signed by it) and\nDIR/<ca-secret-name>/ca.crt for client-certificate validation. With --crl it also\npublishes a first CRL for each CA (DIR/<ca-secret-name>/ca.crl); without it, no CRL\nexists until 'trustgate certs revoke' or 'trustgate certs crl'.")
	fs := cmd.Flags()
	var pf pkiFlags
	pf.register(cmd, true, "CA key `type`: ecdsa (P-256) or rsa (2048)")
	var opts certs.InitOptions
	fs.StringVar(&opts.CommonName, "cn", "", "root CA common `name` (default \""+certs.DefaultCommonName+"\")")
	var sf subjectFlags
	sf.register(fs)
	fs.BoolVar(&opts.Intermediate, "intermediate", false, "also create an intermediate CA; leaves are then issued by it unless --issuer root")
	fs.IntVar(&opts.Days, "days", certs.DefaultCADays, "CA validity in `days`")
	fs.BoolVar(&opts.CRL, "crl", false, "publish a first CRL for each CA now (it must then be renewed before its nextUpdate)")
	fs.IntVar(&opts.CRLDays, "crl-days", certs.DefaultCRLDays, "validity of the CRLs this PKI publishes (nextUpdate), in `days`")
	fs.StringVar(&opts.CASecretName, "ca-secret-name", certs.DefaultCASecretName, "`name` of the CA-only secret directory")
	cmd.RunE = action(func(cmd *cobra.Command, _ []string) error {
		if err := pf.check(cmd, opts.Days, opts.CRLDays); err != nil {
			return err
		}
		if err := sf.check(opts.CommonName); err != nil {
			return usageError{err}
		}
		opts.Key, opts.Subject = certs.KeyType(pf.keyType), sf.subject()
		if err := certs.Init(pf.dir, opts); err != nil {
			return err
		}
		if err := initSummary(cmd.OutOrStdout(), pf.dir, opts); err != nil {
			return err
		}
		if opts.CRL {
			return crlSummary(cmd.OutOrStdout(), pf.dir)
		}
		return nil
	})
	return cmd
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

func newCertsRevokeCmd() *cobra.Command {
	cmd := certsCmd("revoke --dir DIR --name NAME", "revoke a certificate and publish the CRLs",
		"Revokes the current certificate of NAME and publishes a fresh CRL for every CA into every\nca.crl of DIR (the first revocation starts CRL publication). With --publish=false the\nrevocation is only recorded, and the next 'trustgate certs crl' publishes it.")
	fs := cmd.Flags()
	var pf pkiFlags
	pf.register(cmd, false, "")
	name := fs.String("name", "", "secret `name` of the certificate (required)")
	publish := fs.Bool("publish", true, "publish the CRLs now")
	var opts certs.CRLOptions
	fs.IntVar(&opts.Days, "crl-days", 0, "validity of the published CRLs (nextUpdate) in `days` (default: the PKI's, set by init)")
	cmd.RunE = action(func(cmd *cobra.Command, _ []string) error {
		if err := pf.check(cmd); err != nil {
			return err
		}
		if *name == "" {
			return usagef("--name is required")
		}
		if opts.Days < 0 {
			return usagef("--crl-days %d: must be positive", opts.Days)
		}
		serial, err := certs.Revoke(pf.dir, *name, time.Time{})
		if err != nil {
			return err
		}
		stdout := cmd.OutOrStdout()
		fmt.Fprintf(stdout, "Revoked %q (serial %s).\n", *name, serial.Text(16))
		if !*publish {
			fmt.Fprintf(stdout, "Not published yet: run 'trustgate certs crl --dir %s' to put it in the CRLs.\n", pf.dir)
			return nil
		}
		if err := certs.WriteCRLs(pf.dir, opts); err != nil {
			return err
		}
		return crlSummary(stdout, pf.dir)
	})
	return cmd
}

func newCertsCRLCmd() *cobra.Command {
	cmd := certsCmd("crl --dir DIR", "publish a fresh CRL for every CA and write it to every ca.crl",
		"Publishes a fresh CRL for every CA (root and intermediate each sign their own: Envoy needs\na CRL for every CA of a chain once it has one for any), with the CRL number\nincremented, and writes it to ca.crl in every secret directory of DIR. On a PKI without\nCRLs this starts CRL publication. A CRL is valid until its nextUpdate: run this again\nbefore then (from cron, say), or Envoy rejects every client of the CA.")
	var pf pkiFlags
	pf.register(cmd, false, "")
	var opts certs.CRLOptions
	cmd.Flags().IntVar(&opts.Days, "crl-days", 0, "validity of the CRLs (nextUpdate) in `days` (default: the PKI's, set by init)")
	cmd.RunE = action(func(cmd *cobra.Command, _ []string) error {
		if err := pf.check(cmd); err != nil {
			return err
		}
		if opts.Days < 0 {
			return usagef("--crl-days %d: must be positive", opts.Days)
		}
		if err := certs.WriteCRLs(pf.dir, opts); err != nil {
			return err
		}
		return crlSummary(cmd.OutOrStdout(), pf.dir)
	})
	return cmd
}

// crlSummary says which CRLs the PKI publishes, until when they are valid,
// what happens then, and how to renew them.
func crlSummary(stdout io.Writer, dir string) error {
	infos, err := certs.CRLs(dir)
	if err != nil {
		return err
	}
	if len(infos) == 0 {
		return fmt.Errorf("%s publishes no CRL", dir)
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
	return nil
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
	org, ou                     wholeFlag
	locality, province, country string
	dn                          string
}

func (f *subjectFlags) register(fs *pflag.FlagSet) {
	fs.Var(&f.org, "org", "subject `organization` (O; repeatable)")
	fs.Var(&f.ou, "ou", "subject organizational `unit` (OU; repeatable)")
	fs.StringVar(&f.locality, "locality", "", "subject `locality` (L)")
	fs.StringVar(&f.province, "state", "", "subject `state` or province (ST)")
	fs.StringVar(&f.country, "country", "", "subject `country` (C): two letters")
	fs.StringVar(&f.dn, "subject", "", "the whole subject `DN`, in the order written, instead of --cn, --org, --ou, --locality, --state and --country: as Envoy prints it\n"+
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
