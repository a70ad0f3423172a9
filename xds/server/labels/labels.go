package labels

import (
	"errors"
	"fmt"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/types/known/structpb"
)

// MetadataKey is the node metadata field holding the labels.
const MetadataKey = "labels"

// ErrSyntax is returned (wrapped) for a malformed label list.
var ErrSyntax = errors.New("labels: want k=v,k2=v2")

// Parse reads "k=v,k2=v2" (spaces around items are ignored; an empty string
// is no labels). Keys must be non-empty and unique.
func Parse(s string) (map[string]string, error) {
	out := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		k, v, ok := strings.Cut(item, "=")
		k = strings.TrimSpace(k)
		switch {
		case !ok:
			return nil, fmt.Errorf("%w: %q has no '='", ErrSyntax, item)
		case k == "":
			return nil, fmt.Errorf("%w: %q has an empty key", ErrSyntax, item)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("%w: key %q given twice", ErrSyntax, k)
		}
		out[k] = strings.TrimSpace(v)
	}
	return out, nil
}

// FromNode returns the string-valued entries of the node's metadata
// "labels" struct. Entries of other JSON types are not labels and are
// ignored; a node without metadata has no labels.
func FromNode(n *corev3.Node) map[string]string {
	out := map[string]string{}
	for k, v := range n.GetMetadata().GetFields()[MetadataKey].GetStructValue().GetFields() {
		if s, ok := v.GetKind().(*structpb.Value_StringValue); ok {
			out[k] = s.StringValue
		}
	}
	return out
}

// Metadata returns node metadata carrying the labels, as FromNode reads it.
func Metadata(l map[string]string) *structpb.Struct {
	fields := make(map[string]*structpb.Value, len(l))
	for k, v := range l {
		fields[k] = structpb.NewStringValue(v)
	}
	return &structpb.Struct{Fields: map[string]*structpb.Value{
		MetadataKey: structpb.NewStructValue(&structpb.Struct{Fields: fields}),
	}}
}
