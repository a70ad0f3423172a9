package translate

import (
	"fmt"

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
	name := msg.ProtoReflect().Descriptor().FullName()
	// Deterministic marshalling: some typed configs hold maps (RBAC
	// policies), and anypb.New's default map order is random, which would
	// change the resource bytes (and the snapshot version) on every build.
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(msg)
	if err != nil {
		if verr := msg.ValidateAll(); verr != nil {
			return nil, fmt.Errorf("%s: %w", name, verr) // the validation error first, as ever
		}
		return nil, fmt.Errorf("pack %s: %w", name, err)
	}
	a := &anypb.Any{TypeUrl: typeURLPrefix + string(name), Value: b}
	if found, ok := recentPayloads.get(a.TypeUrl, b); ok {
		keepPacked(a, found)
		return a, nil
	}
	if err := msg.ValidateAll(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	found := walkPayload(msg)
	recentPayloads.put(a.TypeUrl, b, found)
	keepPacked(a, found)
	return a, nil
}

// typeURLPrefix is what anypb.MarshalFrom puts before a type's full name.
const typeURLPrefix = "type.googleapis.com/"
