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
// that Check need not unpack the Any again (packed.go).
func toAny(msg validatable) (*anypb.Any, error) {
	if err := msg.ValidateAll(); err != nil {
		return nil, fmt.Errorf("%s: %w", msg.ProtoReflect().Descriptor().FullName(), err)
	}
	a := &anypb.Any{}
	// Deterministic marshalling: some typed configs hold maps (RBAC
	// policies), and anypb.New's default map order is random, which would
	// change the resource bytes (and the snapshot version) on every build.
	if err := anypb.MarshalFrom(a, msg, proto.MarshalOptions{Deterministic: true}); err != nil {
		return nil, fmt.Errorf("pack %s: %w", msg.ProtoReflect().Descriptor().FullName(), err)
	}
	recordPayload(msg, a)
	return a, nil
}
