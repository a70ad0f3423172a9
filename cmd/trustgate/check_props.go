package main

import (
	"fmt"
	"time"

	"github.com/trustgate/trustgate/compile"
	"github.com/trustgate/trustgate/explain"
	"github.com/trustgate/trustgate/labelset"
	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/envoymodel"
	"github.com/trustgate/trustgate/xds/envoymodel/props"
)

// propertyFinding is a failed security property in check's JSON: the
// violation, the proxy group, and where the server it concerns is written.
type propertyFinding struct {
	props.Violation
	ProxyGroup string `json:"proxyGroup"`
	File       string `json:"file,omitempty"`
	Line       int    `json:"line,omitempty"`
}

// compileFunc compiles one proxy group for the model of Envoy:
// compile.Config.Compile (see compiled), the same
// compile serve sends to Envoy.
type compileFunc func(labels map[string]string) (*envoymodel.Resources, error)

// compiled is cfg.Compile with its resources as the model of Envoy takes
// them.
func compiled(cfg *compile.Config) compileFunc {
	return func(labels map[string]string) (*envoymodel.Resources, error) {
		res, err := cfg.Compile(labels)
		if err != nil {
			return nil, err
		}
		return explain.ModelResources(res), nil
	}
}

// addPropertyFindings runs the security properties (xds/envoymodel/props)
// on every proxy group as compiled, with client certificates made from
// twins of the configuration's client CAs and the probes bounded per host
// (props.Bounded). Each violation is an error naming the Gateway server it
// concerns and the connection and request that show it. When the model of
// Envoy cannot take a group's resources, the properties are not checked
// there, which is a warning.
func addPropertyFindings(r *report, cfg *compile.Config, compileGroup compileFunc, now time.Time) {
	groups := cfg.Selectors()
	if len(groups) == 0 {
		groups = []map[string]string{{}}
	}
	for _, labels := range groups {
		group := labelset.Key(labels)
		in, err := compileGroup(labels)
		if err != nil {
			r.add("error", err)
			continue
		}
		out, err := props.Run(cfg.Model(), labels, in, props.Bounded().With(nil, now))
		if err != nil {
			r.addField("warning", &model.FieldError{Msg: fmt.Sprintf("security properties not checked for proxy group %q: %v", group, err), Code: codeProperty})
			continue
		}
		for _, v := range out.Violations {
			f := locateViolation(cfg.Model(), group, v)
			r.addField("error", f.fieldError(f.message()))
			r.Findings[len(r.Findings)-1].Property = f
		}
		for _, s := range out.Unverified {
			r.addField("warning", unverified(cfg.Model(), group, s))
		}
	}
}

// codeProperty is the code of check's findings about security properties.
const codeProperty = "security-property"

// unverified says that no client of check's making passed a server's
// validation, so what a valid client reaches there went unprobed.
func unverified(m *model.Config, group string, s *props.Server) *model.FieldError {
	why := "its SAN matchers accept none of the certificates check makes"
	if len(s.Validation.SPKI)+len(s.Validation.Hash) > 0 {
		why = "it pins client certificates, and check cannot make one with a pinned key"
	}
	msg := fmt.Sprintf("security properties (proxy group %s): no client certificate passes this server's validation, because %s; what a valid client reaches here was not probed (use trustgate explain --cert with a real client)", group, why)
	v := props.Violation{Gateway: s.Gateway, ServerIndex: s.Index}
	return locateViolation(m, group, v).fieldError(msg)
}

// fieldError is msg located at the Gateway server the finding is about,
// when the configuration names it.
func (f *propertyFinding) fieldError(msg string) *model.FieldError {
	e := &model.FieldError{Msg: msg, Code: codeProperty}
	if f.File != "" {
		e.File, e.Line, e.Object, e.Path = f.File, f.Line, "Gateway "+f.Gateway, fmt.Sprintf("spec.servers[%d]", f.ServerIndex)
	}
	return e
}

// locateViolation finds the Gateway server a violation is about.
func locateViolation(m *model.Config, group string, v props.Violation) *propertyFinding {
	f := &propertyFinding{Violation: v, ProxyGroup: group}
	for _, gw := range m.Gateways {
		if gw.Metadata.Namespace+"/"+gw.Metadata.Name == v.Gateway {
			f.File, f.Line = gw.Pos.File, gw.Pos.LineOf(fmt.Sprintf("spec.servers[%d]", v.ServerIndex))
			break
		}
	}
	return f
}

// message is the finding's line: where, which property, the probe, and
// what happened against what the configuration means.
func (f *propertyFinding) message() string {
	msg := fmt.Sprintf("security property %s fails for host %q", f.Property, f.Host)
	if f.ProxyGroup != "" {
		msg += fmt.Sprintf(" (proxy group %s)", f.ProxyGroup)
	}
	msg += fmt.Sprintf(": connection: %s; request: %s; got %s, want %s", f.Connection, f.Request, f.Got, f.Want)
	if f.Count > 1 {
		msg += fmt.Sprintf(" (%d probes fail alike)", f.Count)
	}
	return msg
}
