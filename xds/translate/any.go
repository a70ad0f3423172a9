package translate

import (
	"fmt"
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// validatable is a proto message carrying protoc-gen-validate's rules.
type validatable interface {
	proto.Message
	ValidateAll() error
}

// toAny validates msg against Envoy's own validate rules and packs it. Every
// typed_config goes through here: ValidateAll on the outer resource does not
// look inside an Any, so an invalid filter config would otherwise only show up
// as an Envoy NACK. It also walks msg for the checks' other findings, so
// that Check need not unpack the Any again (packed.go). A typed config of
// the same type and bytes as one packed recently (the chains of a listener
// repeat their TLS context, router and access log) was validated and
// walked then, with the same outcome: both are functions of its content.
func toAny(msg validatable) (*anypb.Any, error) {
	a, _, err := pack(msg)
	return a, err
}

// pack is toAny, returning the payload's findings too.
func pack(msg validatable) (*anypb.Any, []finding, error) {
	name := msg.ProtoReflect().Descriptor().FullName()
	// Deterministic marshalling: some typed configs hold maps (RBAC
	// policies), and anypb.New's default map order is random, which would
	// change the resource bytes (and the snapshot version) on every build.
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(msg)
	if err != nil {
		if verr := msg.ValidateAll(); verr != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, verr) // the validation error first, as ever
		}
		return nil, nil, fmt.Errorf("pack %s: %w", name, err)
	}
	a := &anypb.Any{TypeUrl: typeURLPrefix + string(name), Value: b}
	h := recentPayloads.Hash(a.TypeUrl, b)
	if found, ok := recentPayloads.Get(h, a.TypeUrl, b); ok {
		keepPacked(a, found)
		return a, found, nil
	}
	if err := msg.ValidateAll(); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	found := walkPayload(msg)
	recentPayloads.Update(h, a.TypeUrl, b, func(v *[]finding, _ bool) { *v = found })
	keepPacked(a, found)
	return a, found, nil
}

// typeURLPrefix is what anypb.MarshalFrom puts before a type's full name.
const typeURLPrefix = "type.googleapis.com/"

// onceBuilt are typed configs toAnyOnce packed, by their key.
var onceBuilt = struct {
	sync.Mutex
	by map[string]builtAny
}{}

// builtMax bounds onceBuilt: past it the set starts again.
const builtMax = 256

type builtAny struct {
	url   string
	value []byte
	found []finding
}

// toAnyOnce is toAny(build()), where key determines what build returns:
// built and packed the first time, and afterwards a new Any of the same
// type and bytes (the bytes shared: nothing changes an Any's bytes in
// place, they are replaced), with the same findings. Every
// HCM of a listener has the same access log; building its JSON format and
// marshalling it was the largest part of packing a chain (docs/performance.md).
func toAnyOnce(key string, build func() validatable) (*anypb.Any, error) {
	onceBuilt.Lock()
	b, ok := onceBuilt.by[key]
	onceBuilt.Unlock()
	if ok {
		a := &anypb.Any{TypeUrl: b.url, Value: b.value}
		keepPacked(a, b.found)
		return a, nil
	}
	a, found, err := pack(build())
	if err != nil {
		return nil, err
	}
	onceBuilt.Lock()
	if onceBuilt.by == nil || len(onceBuilt.by) >= builtMax {
		onceBuilt.by = map[string]builtAny{}
	}
	onceBuilt.by[key] = builtAny{url: a.TypeUrl, value: a.Value, found: found}
	onceBuilt.Unlock()
	return a, nil
}
