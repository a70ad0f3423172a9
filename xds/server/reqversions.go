package server

import (
	"unicode/utf8"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// A delta client that reconnects presents every resource it holds with its
// version: initial_resource_versions, a map<string, string>, field 5 of
// DeltaDiscoveryRequest (Envoy's DeltaSubscriptionState::
// getNextRequestAckless, source/extensions/config_subscription/grpc/
// delta_subscription_state.cc, fills it from every resource it holds after
// markStreamFresh). After a control-plane restart each of 1,000 proxies of
// a 1,000-host configuration sends about 4,000 such entries, and
// protobuf-go's decoding of them (through reflection, two strings and a map
// assignment an entry, the map grown from empty) was 30% of the restarted
// server's CPU, and proto.Size of the decoded map in the guard another 10%.
//
// takeVersions decodes those records itself: one string holds every
// entry's bytes, keys and values are slices of it, and the map is sized
// once. It takes the common shape only: an entry of a key and a value
// (fields 1 and 2, each length-delimited, in any order, repeated: the last
// wins, as protobuf-go's consumeMap), each valid UTF-8, as proto3 strings
// must be. Anything else (a malformed entry, another field in an entry, bad
// UTF-8) leaves the request to proto.Unmarshal whole, which decodes or
// refuses it as it always did: the result is what proto.Unmarshal makes of
// the bytes (TestTakeVersionsDecodesAsProto).

// versionsField is initial_resource_versions' field number.
const versionsField = 5

// takeVersions returns b without its initial_resource_versions records
// (b itself when it has none) and what they decode to; ok false when b is
// not of the shape it takes (see above): decode b with proto.Unmarshal.
func takeVersions(b []byte) (rest []byte, versions map[string]string, ok bool) {
	// First the records of field 5: how many, and from where to where.
	count, lo, hi := 0, 0, 0
	if !eachVersionRecord(b, func(from, to int) {
		if count == 0 {
			lo = from
		}
		count, hi = count+1, to
	}) {
		return nil, nil, false
	}
	if count == 0 {
		return b, nil, true
	}
	all := string(b[lo:hi]) // the entries' keys and values are slices of it
	// The guard refuses more names than maxRequestNames once decoded; a
	// hostile request of many duplicate entries must not size a map
	// beyond that first.
	versions = make(map[string]string, min(count, maxRequestNames))
	rest = make([]byte, 0, len(b)-(hi-lo))
	prev, ok := 0, true
	eachVersionRecord(b, func(from, to int) {
		rest = append(rest, b[prev:from]...)
		prev = to
		_, _, n := protowire.ConsumeTag(b[from:])
		_, l := protowire.ConsumeVarint(b[from+n:])
		at := from + n + l // the entry's bytes
		k, v, good := versionEntry(b[at:to])
		ok = ok && good
		if ok {
			at -= lo // where they are in all
			versions[all[at+k[0]:at+k[1]]] = all[at+v[0] : at+v[1]]
		}
	})
	if !ok {
		return nil, nil, false
	}
	return append(rest, b[prev:]...), versions, true
}

// eachVersionRecord calls f with where each record of field 5 of the
// length-delimited wire type is in b, in order; false if b is not a
// sequence of well-formed fields.
func eachVersionRecord(b []byte, f func(from, to int)) bool {
	for at := 0; at < len(b); {
		num, typ, n := protowire.ConsumeTag(b[at:])
		if n < 0 {
			return false
		}
		m := protowire.ConsumeFieldValue(num, typ, b[at+n:])
		if m < 0 {
			return false
		}
		// Another wire type is an unknown field to protobuf-go: left in
		// rest, it stays one.
		if num == versionsField && typ == protowire.BytesType {
			f(at, at+n+m)
		}
		at += n + m
	}
	return true
}

// versionEntry decodes one map entry e (see takeVersions): its key and
// value are e[key[0]:key[1]] and e[value[0]:value[1]] (empty when absent).
func versionEntry(e []byte) (key, value [2]int, ok bool) {
	for at := 0; at < len(e); {
		num, typ, n := protowire.ConsumeTag(e[at:])
		if n < 0 || typ != protowire.BytesType || (num != 1 && num != 2) {
			return key, value, false
		}
		l, m := protowire.ConsumeVarint(e[at+n:])
		if m < 0 || l > uint64(len(e)-at-n-m) {
			return key, value, false
		}
		from := at + n + m
		to := from + int(l)
		if !utf8.Valid(e[from:to]) {
			return key, value, false
		}
		if num == 1 {
			key = [2]int{from, to}
		} else {
			value = [2]int{from, to}
		}
		at = to
	}
	return key, value, true
}

// requestSize is proto.Size(m), the size of m encoded, for the guard's
// limit; a delta request's initial_resource_versions are sized here
// (protobuf-go sizes a map through reflection, entry by entry: a tenth of
// a restarted server's CPU). protobuf-go encodes every map entry with its
// key and its value, empty or not.
func requestSize(m proto.Message) int {
	r, ok := m.(*discoveryv3.DeltaDiscoveryRequest)
	if !ok || len(r.InitialResourceVersions) == 0 {
		return proto.Size(m)
	}
	versions := r.InitialResourceVersions
	r.InitialResourceVersions = nil
	n := proto.Size(r)
	r.InitialResourceVersions = versions
	for k, v := range versions {
		e := protowire.SizeTag(1) + protowire.SizeBytes(len(k)) + protowire.SizeTag(2) + protowire.SizeBytes(len(v))
		n += protowire.SizeTag(versionsField) + protowire.SizeBytes(e)
	}
	return n
}
