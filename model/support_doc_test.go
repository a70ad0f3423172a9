package model

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSupportDocCoversEveryField checks docs/istio-support.md against the
// Istio kinds' types: a "### Type" section per type reachable from the
// kinds' specs, and in it one row per field the type reads and per field it
// refuses (unsupportedFields), and no row for anything else.
func TestSupportDocCoversEveryField(t *testing.T) {
	text, err := os.ReadFile("../docs/istio-support.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := supportDocRows(string(text))
	want := map[string][]string{}
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(ty reflect.Type) {
		for ty.Kind() == reflect.Pointer || ty.Kind() == reflect.Slice || ty.Kind() == reflect.Map {
			ty = ty.Elem()
		}
		if ty.Kind() != reflect.Struct || seen[ty] {
			return
		}
		seen[ty] = true
		var fields []string
		for i := 0; i < ty.NumField(); i++ {
			name, _, _ := strings.Cut(ty.Field(i).Tag.Get("json"), ",")
			fields = append(fields, name)
			walk(ty.Field(i).Type)
		}
		for k := range unsupportedFields[ty.Name()] {
			fields = append(fields, k)
		}
		slices.Sort(fields)
		want[ty.Name()] = fields
	}
	for _, spec := range []any{GatewaySpec{}, VirtualServiceSpec{}, DestinationRuleSpec{}, ServiceEntrySpec{}, AuthorizationPolicySpec{}} {
		walk(reflect.TypeOf(spec))
	}
	if diff := cmp.Diff(want, doc); diff != "" {
		t.Errorf("docs/istio-support.md rows per type (-fields of the types +rows of the document):\n%s", diff)
	}
}

var (
	sectionLine = regexp.MustCompile("^### ([A-Za-z0-9]+)")
	rowLine     = regexp.MustCompile("^\\| `([A-Za-z0-9_]+)` \\|")
)

// supportDocRows maps each "### Type" section to its rows' field names,
// sorted.
func supportDocRows(text string) map[string][]string {
	out := map[string][]string{}
	section := ""
	for _, line := range strings.Split(text, "\n") {
		if m := sectionLine.FindStringSubmatch(line); m != nil {
			section = m[1]
			out[section] = nil
			continue
		}
		if m := rowLine.FindStringSubmatch(line); m != nil && section != "" {
			out[section] = append(out[section], m[1])
		}
	}
	for _, rows := range out {
		slices.Sort(rows)
	}
	return out
}
