package irbuild

import (
	"fmt"
	"reflect"

	"github.com/trustgate/trustgate/labelset"
	"github.com/trustgate/trustgate/model"
)

func labelsetKey(n Node) string { return labelset.Key(n.Labels) }

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
		if !reflect.DeepEqual(fresh.chains, e.rec.chains) {
			err = fmt.Errorf("memo entry of %s: its chains are not what building the server gives", e.rec.server.key)
			return
		}
		fw, ew := fresh.writes, e.rec.writes
		if !reflect.DeepEqual(fw.errs.List(), ew.errs.List()) || !reflect.DeepEqual(fw.warnings, ew.warnings) ||
			!reflect.DeepEqual(fw.rec, ew.rec) || !reflect.DeepEqual(fw.destPolicy, ew.destPolicy) ||
			len(fw.vhostServers) != len(ew.vhostServers) || len(fw.routeOrigin) != len(ew.routeOrigin) {
			err = fmt.Errorf("memo entry of %s: its writes are not what building the server gives", e.rec.server.key)
		}
	})
	return err
}
