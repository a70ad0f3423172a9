package pipeline

import (
	"fmt"
	"sort"
	"strings"

	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/ir"
	"github.com/trustgate/trustgate/xds/translate"
)

// Config is a loaded and validated configuration, ready to compile for any
// proxy group.
type Config struct {
	model *model.Config
}

// Output is the result of compiling for one proxy group.
type Output struct {
	Resources *translate.Resources
	Warnings  []string
}

// Load reads and validates the configuration; the error lists every problem
// found, each as "file:line: Kind ns/name: field: message".
func Load(opts model.LoadOptions) (*Config, error) {
	cfg, err := model.Load(opts)
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Config{model: cfg}, nil
}

// Model returns the loaded objects.
func (c *Config) Model() *model.Config { return c.model }

// Build compiles the resources of the proxies with these node labels.
func (c *Config) Build(node ir.Node) (*Output, error) {
	proxy, err := ir.Build(c.model, node)
	if err != nil {
		return nil, err
	}
	res, err := translate.Translate(proxy)
	if err != nil {
		return nil, fmt.Errorf("translating for labels %s: %w", FormatLabels(node.Labels), err)
	}
	return &Output{Resources: res, Warnings: proxy.Warnings}, nil
}

// Compile returns the checked resources for the proxy group with these labels
// (the server's view: warnings are reported by Build callers).
func (c *Config) Compile(labels map[string]string) (*translate.Resources, error) {
	out, err := c.Build(ir.Node{Labels: labels})
	if err != nil {
		return nil, err
	}
	return out.Resources, nil
}

// Selectors returns the distinct Gateway selectors: the label sets of the
// proxy groups this configuration programs.
func (c *Config) Selectors() []map[string]string { return ir.Selectors(c.model) }

// FormatLabels renders labels as sorted "k=v,k2=v2" ("" for none).
func FormatLabels(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + labels[k]
	}
	return strings.Join(parts, ",")
}
