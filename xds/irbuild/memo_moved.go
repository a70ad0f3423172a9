package irbuild

import (
	"maps"
	"reflect"

	"github.com/trustgate/trustgate/model"
)

// A document that moved in its file (lines inserted above it, a host
// added to a Gateway above it in one file) is a new object to the document
// cache, equal to the old one but for its place. What a server's build
// gives depends on places only through the objects its record names, for
// messages (the routes' origins, the first reference of a cluster or
// secret, a passthrough chain's route, a client CA's reference), and through
// its errors and warnings, which carry a file and line. So a record without
// errors or warnings whose Gateway and VirtualServices only moved is taken
// with those objects replaced by this build's (moved), as the build would
// have named them.

// moved maps a record's objects to this build's equal ones at other places;
// a nil *moved: none moved.
type moved struct {
	objects map[*model.Object]*model.Object
	vss     map[*model.VirtualService]*model.VirtualService
}

// movedOnly reports whether e's Gateway and candidates are gw and cands but
// for their places, and e's record has nothing a place is written into; if
// so it returns what to replace.
func (mb *memoBuild) movedOnly(e *serverBuild, gw *model.Gateway, cands []*model.VirtualService) (*moved, bool) {
	w, oldGW := e.rec.writes, e.rec.server.gw
	if len(w.errs.List()) > 0 || len(w.warnings) > 0 || len(e.candidates) != len(cands) {
		return nil, false
	}
	if oldGW != gw && !mb.samePlaceless(oldGW, gw) {
		return nil, false
	}
	mv := &moved{
		objects: map[*model.Object]*model.Object{&oldGW.Object: &gw.Object},
		vss:     make(map[*model.VirtualService]*model.VirtualService, len(cands)),
	}
	for i, vs := range cands {
		old := e.candidates[i]
		if old != vs && !mb.samePlaceless(old, vs) {
			return nil, false
		}
		mv.objects[&old.Object], mv.vss[old] = &vs.Object, vs
	}
	return mv, true
}

// placed is a model object: its Object holds its place.
type placed interface{ Meta() *model.Object }

// samePlaceless reports whether a and b (pointers to objects of one kind)
// are equal but for their file, line and lines; each pair is compared
// once a build.
func (mb *memoBuild) samePlaceless(a, b placed) bool {
	oa, ob := a.Meta(), b.Meta()
	k := [2]*model.Object{oa, ob}
	if v, ok := mb.compared.Load(k); ok {
		return v.(bool)
	}
	same := maps.Equal(oa.Pos.Empty, ob.Pos.Empty)
	// The document cache moves a document by a shallow copy of its object
	// (model's rebased): the spec's slices and maps are the very same, and
	// only objects decoded apart need comparing in depth.
	if same && !shallowSame(reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()) {
		same = reflect.DeepEqual(placeless(a), placeless(b))
	}
	mb.compared.Store(k, same)
	return same
}

// placeless is a copy of the object p points to, its place blanked: the
// objects are shared and never changed.
func placeless(p placed) any {
	c := reflect.New(reflect.TypeOf(p).Elem())
	c.Elem().Set(reflect.ValueOf(p).Elem())
	cp := c.Interface().(placed)
	cp.Meta().Pos = model.Position{}
	return cp
}

// object is o's replacement, or o.
func (mv *moved) object(o *model.Object) *model.Object {
	if mv == nil {
		return o
	}
	return replaced(mv.objects, o)
}

// vs is vs's replacement, or vs.
func (mv *moved) vs(vs *model.VirtualService) *model.VirtualService {
	if mv == nil {
		return vs
	}
	return replaced(mv.vss, vs)
}

// replaced is m[k] where m has k, else k.
func replaced[K comparable](m map[K]K, k K) K {
	if n, ok := m[k]; ok {
		return n
	}
	return k
}

// chain replaces the objects a chain copy names.
func (mv *moved) chain(c *chainInfo) {
	if mv == nil {
		return
	}
	c.vs = mv.vs(c.vs)
	if c.ca != nil && mv.objects[c.ca.obj] != nil {
		ca := *c.ca
		ca.obj = mv.object(ca.obj)
		c.ca = &ca
	}
}

// registrations are r with the objects replaced.
func (mv *moved) registrations(r *registrations) *registrations {
	out := &registrations{clusters: make([]clusterEntry, len(r.clusters)), secrets: make([]secretEntry, len(r.secrets))}
	for i, c := range r.clusters {
		c.obj = mv.object(c.obj)
		out.clusters[i] = c
	}
	for i, s := range r.secrets {
		s.obj = mv.object(s.obj)
		out.secrets[i] = s
	}
	return out
}

// shallowSame reports whether struct values a and b hold the same values
// and the same slices, maps and pointers (not merely equal ones), but for
// their places (model.Position): true only if they are equal.
func shallowSame(a, b reflect.Value) bool {
	switch a.Kind() {
	case reflect.Struct:
		if a.Type() == reflect.TypeFor[model.Position]() {
			return true
		}
		for i := range a.NumField() {
			if !shallowSame(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Slice:
		return a.Len() == b.Len() && (a.Len() == 0 || a.Pointer() == b.Pointer())
	case reflect.Map:
		return a.Len() == b.Len() && (a.Len() == 0 || a.Pointer() == b.Pointer())
	case reflect.Pointer:
		return a.Pointer() == b.Pointer()
	case reflect.String:
		return a.String() == b.String()
	case reflect.Bool:
		return a.Bool() == b.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return a.Int() == b.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return a.Uint() == b.Uint()
	case reflect.Float32, reflect.Float64:
		return a.Float() == b.Float()
	}
	return false // interfaces, arrays and the rest: compared deeply
}
