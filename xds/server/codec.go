package server

import (
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	protobuf "google.golang.org/protobuf/proto"
)

// sharedCodec is gRPC's proto codec, except for a DiscoveryResponse or
// DeltaDiscoveryResponse that carries its resources already encoded, as the
// unknown fields of the message (store.go): it sends the small per-stream part (version,
// nonce, type) and then those bytes themselves, shared by every stream of
// the group, instead of copying a full configuration into a buffer for
// every proxy. Protobuf readers take fields in any order, and a repeated
// field's entries wherever they are (the resources come after the nonce).
//
// With gRPC's own codec the same message is correct, one copy per stream.
//
// It decodes ADS requests through requestNames, which shares the decoded
// names of requests that repeat a recent request's names, and a delta
// request's initial_resource_versions itself (reqversions.go).
type sharedCodec struct {
	encoding.CodecV2
	names *requestNames
}

func newSharedCodec(names *requestNames) grpc.ServerOption {
	return grpc.ForceServerCodecV2(sharedCodec{encoding.GetCodecV2(proto.Name), names})
}

// Unmarshal implements encoding.CodecV2.
func (c sharedCodec) Unmarshal(data mem.BufferSlice, v any) error {
	var (
		req   protobuf.Message
		names *[]string // req's field 3
	)
	switch r := v.(type) {
	case *discoveryv3.DiscoveryRequest:
		req, names = r, &r.ResourceNames
	case *discoveryv3.DeltaDiscoveryRequest:
		req, names = r, &r.ResourceNamesSubscribe
	default:
		return c.CodecV2.Unmarshal(data, v)
	}
	// As gRPC's proto codec does: one buffer, freed once decoded (the
	// decoded strings are copies).
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	b := buf.ReadOnlyData()
	r, ok := v.(*discoveryv3.DeltaDiscoveryRequest)
	if !ok {
		return c.names.unmarshal(b, req, names)
	}
	rest, versions, ok := takeVersions(b)
	if !ok {
		return c.names.unmarshal(b, req, names)
	}
	if err := c.names.unmarshal(rest, req, names); err != nil {
		return err
	}
	if versions != nil {
		r.InitialResourceVersions = versions
	}
	return nil
}

// Marshal implements encoding.CodecV2.
func (c sharedCodec) Marshal(v any) (mem.BufferSlice, error) {
	var (
		head protobuf.Message // the response without its shared resources
		body []byte
	)
	switch r := v.(type) {
	case *discoveryv3.DiscoveryResponse:
		body = r.ProtoReflect().GetUnknown()
		head = &discoveryv3.DiscoveryResponse{
			VersionInfo: r.GetVersionInfo(), Resources: r.GetResources(), Canary: r.GetCanary(),
			TypeUrl: r.GetTypeUrl(), Nonce: r.GetNonce(), ControlPlane: r.GetControlPlane(),
		}
	case *discoveryv3.DeltaDiscoveryResponse:
		body = r.ProtoReflect().GetUnknown()
		head = &discoveryv3.DeltaDiscoveryResponse{
			SystemVersionInfo: r.GetSystemVersionInfo(), Resources: r.GetResources(), TypeUrl: r.GetTypeUrl(),
			RemovedResources: r.GetRemovedResources(), RemovedResourceNames: r.GetRemovedResourceNames(),
			Nonce: r.GetNonce(), ControlPlane: r.GetControlPlane(), ResourceErrors: r.GetResourceErrors(),
		}
	}
	if len(body) == 0 {
		return c.CodecV2.Marshal(v)
	}
	b, err := protobuf.Marshal(head)
	if err != nil {
		return nil, err
	}
	// SliceBuffer's Free does nothing: gRPC never recycles the shared bytes.
	return mem.BufferSlice{mem.SliceBuffer(b), mem.SliceBuffer(body)}, nil
}
