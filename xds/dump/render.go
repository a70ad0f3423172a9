package dump

import (
	"fmt"

	"github.com/trustgate/trustgate/xds/translate"
)

// Layout is how a dump arranges the resources.
type Layout string

// Layouts.
const (
	// LayoutConfigDump is Envoy's admin.v3.ConfigDump (the default).
	LayoutConfigDump Layout = "config-dump"
	// LayoutResources is trustgate's own document: one list per resource
	// type, {"listeners","routes","clusters","endpoints","secrets"}, the
	// resources bare, which reads and diffs more easily.
	LayoutResources Layout = "resources"
)

// ParseLayout reads a layout name; "" is the default, config-dump.
func ParseLayout(s string) (Layout, error) {
	switch Layout(s) {
	case "", LayoutConfigDump:
		return LayoutConfigDump, nil
	case LayoutResources:
		return LayoutResources, nil
	}
	return "", fmt.Errorf("layout must be %s or %s, not %q", LayoutConfigDump, LayoutResources, s)
}

// Render renders r in layout as "json" or "yaml", sensitive fields redacted
// unless showSecrets is set.
func Render(r *translate.Resources, layout Layout, format string, showSecrets bool) ([]byte, error) {
	type renderer func(*translate.Resources, bool) ([]byte, error)
	table := map[Layout]map[string]renderer{
		LayoutConfigDump: {"json": ConfigDumpJSON, "yaml": ConfigDumpYAML},
		LayoutResources:  {"json": JSON, "yaml": YAML},
	}
	render, ok := table[layout][format]
	if !ok {
		return nil, fmt.Errorf("no renderer for layout %q and format %q", layout, format)
	}
	return render(r, showSecrets)
}
