package main

import (
	"fmt"
	"slices"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
)

// response is what a client reads of a DiscoveryResponse or a
// DeltaDiscoveryResponse: its header, its size, of listeners and clusters
// what each resource references (refsCache), and in delta each resource's
// name and version.
// The resources themselves are not kept: the server, not the clients, is
// measured, and a client that unmarshalled every resource into an Any of
// its own (a copy of up to 3 MB per response at 1,000 hosts) spent more
// CPU than the server on the same two cores.
type response struct {
	delta   bool // set before reading: which message the bytes are
	typeURL string
	version string // version_info, or delta's system_version_info
	nonce   string
	size    int // the message's size on the wire, less gRPC framing
	// held are the resources of the response, in order: in SotW the
	// listeners or clusters (other types: none), in delta every resource.
	held    []heldResource
	removed []string // delta only
}

// heldResource is one resource a client holds.
type heldResource struct {
	// name and version are delta's only (SotW responses carry the whole
	// type, at one version): a resumed delta stream presents each
	// resource's version (initial_resource_versions).
	name, version string
	refs          *refEntry // listeners and clusters only
}

// Field numbers of discovery.proto's messages, read with protowire.
const (
	respVersion   = 1 // DiscoveryResponse.version_info, DeltaDiscoveryResponse.system_version_info
	respResources = 2 // both
	respTypeURL   = 4 // both
	respNonce     = 5 // both
	respRemoved   = 6 // DeltaDiscoveryResponse.removed_resources
	resVersion    = 1 // Resource.version
	resResource   = 2 // Resource.resource
	resName       = 3 // Resource.name
	anyTypeURL    = 1 // Any.type_url
	anyValue      = 2 // Any.value
)

// rawRequest is a request already encoded (deltaState.requests), which
// clientCodec sends as it is.
type rawRequest []byte

// withVersions is req, an encoded DeltaDiscoveryRequest without versions,
// followed by an initial_resource_versions entry (field 5, a map<string,
// string>: each entry a message of the key, field 1, and the value, field
// 2) for each held resource.
func withVersions(req []byte, held map[string]heldResource) rawRequest {
	const versionsField = 5
	entry := func(name string, h heldResource) int {
		return protowire.SizeTag(1) + protowire.SizeBytes(len(name)) + protowire.SizeTag(2) + protowire.SizeBytes(len(h.version))
	}
	size := len(req)
	for name, h := range held {
		size += protowire.SizeTag(versionsField) + protowire.SizeBytes(entry(name, h))
	}
	b := append(make([]byte, 0, size), req...)
	for name, h := range held {
		b = protowire.AppendVarint(protowire.AppendTag(b, versionsField, protowire.BytesType), uint64(entry(name, h)))
		b = protowire.AppendString(protowire.AppendTag(b, 1, protowire.BytesType), name)
		b = protowire.AppendString(protowire.AppendTag(b, 2, protowire.BytesType), h.version)
	}
	return b
}

// clientCodec is gRPC's proto codec for requests (a rawRequest sent as it
// is), and reads responses
// into *response with protowire, looking each listener and cluster up in
// the run's refsCache (decoding it there the first time its content is
// seen) while the received bytes are valid.
type clientCodec struct {
	encoding.CodecV2
	refs *refsCache
}

func newClientCodec(rc *refsCache) clientCodec {
	return clientCodec{CodecV2: encoding.GetCodecV2(proto.Name), refs: rc}
}

// Marshal implements encoding.CodecV2.
func (c clientCodec) Marshal(v any) (mem.BufferSlice, error) {
	if r, ok := v.(rawRequest); ok {
		return mem.BufferSlice{mem.SliceBuffer(r)}, nil
	}
	return c.CodecV2.Marshal(v)
}

// Unmarshal implements encoding.CodecV2.
func (c clientCodec) Unmarshal(data mem.BufferSlice, v any) error {
	r, ok := v.(*response)
	if !ok {
		return c.CodecV2.Unmarshal(data, v)
	}
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	return c.read(buf.ReadOnlyData(), r)
}

// read parses b into r.
func (c clientCodec) read(b []byte, r *response) error {
	r.size = len(b)
	var resources [][]byte
	err := fields(b, func(num protowire.Number, v []byte) error {
		switch num {
		case respVersion:
			r.version = string(v)
		case respResources:
			resources = append(resources, v)
		case respTypeURL:
			r.typeURL = string(v)
		case respNonce:
			r.nonce = string(v)
		case respRemoved:
			if r.delta {
				r.removed = append(r.removed, string(v))
			}
		}
		return nil
	})
	refs := slices.Contains(wildcardTypes, r.typeURL)
	if err != nil || !refs && !r.delta {
		return err
	}
	r.held = make([]heldResource, 0, len(resources))
	for _, e := range resources {
		var h heldResource
		a, err := c.entry(e, r.delta, &h)
		if err != nil {
			return err
		}
		if refs {
			if h.refs, err = c.refsOf(r.typeURL, a); err != nil {
				return err
			}
		}
		r.held = append(r.held, h)
	}
	return nil
}

// refsOf returns the refsCache entry of a listener or cluster's Any.
func (c clientCodec) refsOf(typeURL string, a []byte) (*refEntry, error) {
	value, err := anyValueOf(a)
	if err != nil {
		return nil, err
	}
	return c.refs.add(typeURL, value)
}

// entry returns a resources entry's Any: the entry is one in SotW, a
// Resource holding one (and its name and version, set in h) in delta.
func (c clientCodec) entry(e []byte, delta bool, h *heldResource) ([]byte, error) {
	if !delta {
		return e, nil
	}
	var a []byte
	err := fields(e, func(num protowire.Number, v []byte) error {
		switch num {
		case resName:
			h.name = c.refs.intern(v)
		case resVersion:
			h.version = c.refs.intern(v)
		case resResource:
			a = v
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if a == nil {
		return nil, fmt.Errorf("delta resource %q without a resource", h.name)
	}
	return a, nil
}

func anyValueOf(a []byte) ([]byte, error) {
	var value []byte
	err := fields(a, func(num protowire.Number, v []byte) error {
		if num == anyValue {
			value = v
		}
		return nil
	})
	return value, err
}

// fields calls f with each length-delimited field of a message; other
// wire types are skipped.
func fields(b []byte, f func(protowire.Number, []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if typ != protowire.BytesType {
			if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
				return protowire.ParseError(n)
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		if err := f(num, v); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}
