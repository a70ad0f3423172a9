package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trustgate/trustgate/compile"
	"github.com/trustgate/trustgate/model"
)

// finding is one problem of check's report. -o text prints Text; -o json
// gives every part as a field of its own (as istioctl analyze does), each
// present, empty or 0 when it does not apply.
type finding struct {
	File      string `json:"file"`
	Line      int    `json:"line"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Field     string `json:"field"`
	Code      string `json:"code"`
	Severity  string `json:"severity"` // "error" or "warning"
	Message   string `json:"message"`
	Fix       string `json:"fix"`
	// Text is the one-line form: "file:line: Kind ns/name: field: message Fix: fix".
	Text string `json:"-"`
	// Property is set on a failed security property (check_props.go).
	Property *propertyFinding `json:"property,omitempty"`
}

type report struct {
	Errors   int       `json:"errors"`
	Warnings int       `json:"warnings"`
	Findings []finding `json:"findings"`
}

// codeInternal marks an error that is not a user error of the
// configuration (a failure inside trustgate).
const codeInternal = "internal"

// add records err as findings: one per user error (a FieldError may be a
// warning), walking joined errors so that none is lost.
func (r *report) add(severity string, err error) {
	switch e := err.(type) {
	case *model.FieldError:
		r.addField(severity, e)
		return
	case interface{ Unwrap() []error }: // *model.ErrorList, errors.Join
		for _, inner := range e.Unwrap() {
			r.add(severity, inner)
		}
		return
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		r.addFinding(finding{Code: codeInternal, Severity: severity, Message: line, Text: line})
	}
}

// addField records one user error or warning with its parts.
func (r *report) addField(severity string, e *model.FieldError) {
	if e.Warning {
		severity = "warning"
	}
	kind, ns, name := e.ObjectRef()
	msg, fix := e.Parts()
	r.addFinding(finding{
		File: e.File, Line: e.Line, Kind: kind, Namespace: ns, Name: name, Field: e.Path,
		Code: e.EffectiveCode(), Severity: severity, Message: msg, Fix: fix, Text: e.Error(),
	})
}

func (r *report) addFinding(f finding) {
	r.Findings = append(r.Findings, f)
	if f.Severity == "error" {
		r.Errors++
	} else {
		r.Warnings++
	}
}

func newCheckCmd() *cobra.Command {
	var cf configFlags
	cmd := &cobra.Command{
		Use:   "check " + configUse,
		Short: "validate configuration and certificates; exit 1 on errors",
		Long: "Loads, validates and translates for every Gateway selector; diagnoses every certificate, key,\n" +
			"CA bundle and CRL in the role it is used in; runs the security properties on generated\n" +
			"connections and requests (see README, Testing). Reports every problem in one run.\n\n" +
			"Exit status: 0 clean (warnings allowed), 1 errors, 2 usage.",
	}
	cf.register(cmd)
	output := outputFlag(cmd, "text", "text", "json")
	expiry := cmd.Flags().Duration("expiry-warning", 30*24*time.Hour, "warn about certificates and CRLs expiring within this `duration`")
	cmd.RunE = action(func(cmd *cobra.Command, args []string) error {
		reserveHugeHeap(cmd)
		if err := checkEnum("output", *output, "text", "json"); err != nil {
			return err
		}
		opts, err := cf.options(args)
		if err != nil {
			return usageError{err}
		}
		r := checkConfig(opts, time.Now(), *expiry)
		if err := writeReport(cmd.OutOrStdout(), *output, r); err != nil {
			return err
		}
		if r.Errors > 0 {
			return exitCode(1)
		}
		return nil
	})
	return cmd
}

// checkConfig loads, validates, builds every proxy group and diagnoses its
// certificates (compile.Load does all of it), and collects the findings.
func checkConfig(opts model.LoadOptions, now time.Time, expiryWarning time.Duration) *report {
	r := &report{Findings: []finding{}}
	cfg, err := compile.Load(opts, compile.WithClock(func() time.Time { return now }), compile.WithExpiryWarning(expiryWarning))
	if err != nil {
		r.add("error", err)
		return r
	}
	for _, w := range cfg.Findings() {
		r.addField("warning", w)
	}
	addPropertyFindings(r, cfg, compiled(cfg), now)
	return r
}

func writeReport(w io.Writer, format string, r *report) error {
	if format == "json" {
		b, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	for _, f := range r.Findings {
		if _, err := fmt.Fprintf(w, "%s: %s\n", f.Severity, f.Text); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "%d error(s), %d warning(s)\n", r.Errors, r.Warnings)
	return err
}
