package irbuild

import (
	"fmt"
	"reflect"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/trustgate/trustgate/labelset"
	"github.com/trustgate/trustgate/model"
)

func labelsetKey(n Node) string { return labelset.Key(n.Labels) }

// placelessOpts compare records with unexported fields, but not the places of
// the objects they name: a record taken for documents that only moved
// names the objects of the build that made it (memo_moved.go).
var placelessOpts = []cmp.Option{cmp.Exporter(func(reflect.Type) bool { return true }), cmpopts.IgnoreTypes(model.Position{})}

// BuildWithWorkers exposes buildWithWorkers to the golden tests: each case
// is built on one fork and on several too, with a memo and without
// (TestBuildGolden).
var BuildWithWorkers = buildWithWorkers

// MemoPristine reports a memo entry that is no longer what building its
// server gives: a pass changed what the memo keeps, or the entry's
// dependencies missed something the build read. cfg and node are those of
// the build that used the memo last.
func MemoPristine(m *Memo, cfg *model.Config, node Node) error {
	b := newBuilder(cfg, node, 1, nil)
	b.vsIndex()
	var err error
	m.entries.Each(func(k serverKey, e *serverBuild) {
		if err != nil || k.node != labelsetKey(node) {
			return
		}
		f := b.fork()
		fresh := &serverRecord{chains: f.serverChains(&portGroup{port: k.port}, e.rec.server), writes: f.writes(), server: e.rec.server}
		if d := cmp.Diff(fresh.chains, e.rec.chains, placelessOpts...); d != "" {
			err = fmt.Errorf("memo entry of %s: its chains are not what building the server gives (-fresh +memo):\n%s", e.rec.server.key, d)
			return
		}
		fw, ew := fresh.writes, e.rec.writes
		if d := cmp.Diff([]any{fw.errs.List(), fw.warnings, fw.rec, fw.destPolicy}, []any{ew.errs.List(), ew.warnings, ew.rec, ew.destPolicy}, placelessOpts...); d != "" ||
			len(fw.vhostServers) != len(ew.vhostServers) || len(fw.routeOrigin) != len(ew.routeOrigin) {
			err = fmt.Errorf("memo entry of %s: its writes are not what building the server gives (-fresh +memo):\n%s", e.rec.server.key, d)
		}
	})
	return err
}
