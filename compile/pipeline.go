package compile

import (
	"fmt"
	"sync"
	"time"

	"github.com/trustgate/trustgate/labelset"
	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/irbuild"
	"github.com/trustgate/trustgate/xds/translate"
)

// Config is a loaded and validated configuration whose every proxy group
// (Gateway selector) has been built and diagnosed once, ready to compile for
// any proxy.
type Config struct {
	model    *model.Config
	settings settings
	warnings []*model.FieldError

	// byNode holds the outputs of the groups built by Load (the Gateway
	// selectors), by labelset.Key; it is written only by Load, so it stays
	// as big as the configuration however many label sets proxies bring.
	byNode map[string]*Output

	mu   sync.Mutex
	used map[string]bool // origins of the secrets some proxy group uses
}

// Output is the result of compiling for one proxy group.
type Output struct {
	Resources *translate.Resources
	Warnings  []string
	// Findings are the warnings with their parts, in the same order.
	Findings []*model.FieldError
}

// Option adjusts Load.
type Option func(*settings)

type settings struct {
	now           func() time.Time
	expiryWarning time.Duration
	serving       bool
	cache         *Cache
}

// DefaultExpiryWarning is how close to expiry a certificate is warned about.
const DefaultExpiryWarning = 30 * 24 * time.Hour

// WithClock sets the time certificates are judged at (default time.Now).
func WithClock(now func() time.Time) Option { return func(s *settings) { s.now = now } }

// WithExpiryWarning warns about certificates expiring within d.
func WithExpiryWarning(d time.Duration) Option { return func(s *settings) { s.expiryWarning = d } }

// ForServe judges as the server must: a certificate or CRL that is expired
// or not yet valid is a warning, not an error. Whether it may be pushed
// depends on what is served: the server holds it back while the served one
// is valid, and lets it replace one that is not valid either (refusing
// then would only keep the same expired CRL in Envoy).
func ForServe() Option { return func(s *settings) { s.serving = true } }

// Load reads and validates the configuration, then builds and diagnoses
// every proxy group it names. The error lists every problem found, each as
// "file:line: Kind ns/name: field: message".
func Load(opts model.LoadOptions, options ...Option) (*Config, error) {
	m, err := model.LoadWith(opts, newSettings(options).modelCache())
	return FromModel(m, err, options...)
}

func newSettings(options []Option) settings {
	s := settings{now: time.Now, expiryWarning: DefaultExpiryWarning}
	for _, o := range options {
		o(&s)
	}
	return s
}

// FromModel is Load for objects decoded elsewhere (model.LoadDocuments, the
// Kubernetes source); loadErr is that decoding's error. As Load does, it
// reports every problem of decoding and validation together
// (model.ValidateLoaded), then builds and diagnoses every proxy group.
func FromModel(m *model.Config, loadErr error, options ...Option) (cfg *Config, err error) {
	s := newSettings(options)
	defer func() { s.end(err) }()
	if err := m.ValidateLoaded(loadErr, s.modelCache()); err != nil {
		return nil, err
	}
	c := &Config{model: m, settings: s, byNode: map[string]*Output{}, used: map[string]bool{}}
	var errs model.Errors
	var other []error
	for _, labels := range c.groups() {
		out, err := c.build(irbuild.Node{Labels: labels})
		if err != nil {
			if !collect(&errs, err) {
				other = append(other, err)
			}
			continue
		}
		c.byNode[labelset.Key(labels)] = out
		c.warnings = append(c.warnings, out.Findings...)
	}
	if len(other) > 0 {
		return nil, joinErrors(errs.Err(), other)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	c.warnings = dedupe(append(c.warnings, c.configWarnings()...))
	return c, nil
}

// configWarnings are findings about the configuration as a whole: hosts no
// Gateway serves, what Load did not read, and Secret documents nothing uses. Secrets-directory
// entries are not reported: a mounted directory commonly holds others (the
// client certificates handed to curl in the examples, say).
func (c *Config) configWarnings() []*model.FieldError {
	out := append(irbuild.UnservedHosts(c.model), c.model.Warnings...)
	out = append(out, c.model.ShortNameWarnings()...)
	for _, s := range c.model.Secrets {
		if s.FromSecretsDir() || c.used[s.Origin()] {
			continue
		}
		e := s.Errorf("", "not used by any Gateway or DestinationRule of any proxy group")
		e.Warning = true
		out = append(out, e)
	}
	return out
}

// groups are the label sets to build at load: every Gateway selector, or one
// empty set when there is none.
func (c *Config) groups() []map[string]string {
	sels := irbuild.Selectors(c.model)
	if len(sels) == 0 {
		return []map[string]string{{}}
	}
	return sels
}

// Model returns the loaded objects.
func (c *Config) Model() *model.Config { return c.model }

// Warnings are the non-fatal findings of every proxy group, deduplicated,
// one line each.
func (c *Config) Warnings() []string { return lines(c.warnings) }

// Findings are Warnings with their parts (file, line, object, field, code,
// fix), for machine-readable reports.
func (c *Config) Findings() []*model.FieldError { return c.warnings }

// Build compiles and diagnoses the resources of the proxies with these node
// labels. The groups Load built are returned from its cache, keyed by the one
// canonical key of a label set (labelset.Key, as the server keys its groups):
// a key that two label sets could share would hand one group's listeners and
// private keys to the other. Other label sets are built afresh each time;
// the server keeps what it compiled.
func (c *Config) Build(node irbuild.Node) (*Output, error) {
	if out, ok := c.byNode[labelset.Key(node.Labels)]; ok {
		return out, nil
	}
	return c.build(node)
}

func (c *Config) build(node irbuild.Node) (*Output, error) {
	proxy, buildFindings, err := irbuild.BuildWithMemo(c.model, node, c.settings.irbuildMemo())
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	for _, sec := range proxy.Secrets {
		c.used[sec.Origin] = true
	}
	c.mu.Unlock()
	warnings, err := diagnose(proxy, c.settings)
	if err != nil {
		return nil, err
	}
	res, err := c.settings.translateCache().Translate(proxy)
	if err != nil {
		return nil, fmt.Errorf("translating for labels %q: %w", labelset.Key(node.Labels), err)
	}
	if err := checkSizes(node, proxy, res, c.settings.sizes()); err != nil {
		return nil, err
	}
	findings := dedupe(append(append([]*model.FieldError(nil), buildFindings...), warnings...))
	return &Output{Resources: res, Warnings: lines(findings), Findings: findings}, nil
}

// Compile returns the checked resources for the proxy group with these labels
// (the server's view; warnings were reported at Load).
func (c *Config) Compile(labels map[string]string) (*translate.Resources, error) {
	out, err := c.Build(irbuild.Node{Labels: labels})
	if err != nil {
		return nil, err
	}
	return out.Resources, nil
}

// Selectors returns the distinct Gateway selectors: the label sets of the
// proxy groups this configuration programs.
func (c *Config) Selectors() []map[string]string { return irbuild.Selectors(c.model) }

// Selectors reads the distinct Gateway selectors of whatever of opts
// loads, errors or not: what a shell completion of --node-labels offers
// while the configuration is still being written.
func Selectors(opts model.LoadOptions) []map[string]string {
	m, _ := model.Load(opts) // the errors are check's to report; m holds what decoded
	return irbuild.Selectors(m)
}

// dedupe drops findings that read the same as an earlier one.
func dedupe(in []*model.FieldError) []*model.FieldError {
	seen := map[string]bool{}
	var out []*model.FieldError
	for _, e := range in {
		if k := e.Error(); !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}

// lines is each finding's one-line text.
func lines(in []*model.FieldError) []string {
	out := make([]string, len(in))
	for i, e := range in {
		out[i] = e.Error()
	}
	return out
}
