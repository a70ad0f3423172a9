package bootstrap

import (
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"
)

// YAML renders a bootstrap as Envoy reads it: proto field names, keys
// sorted, so equal bootstraps give equal bytes.
func YAML(b proto.Message) ([]byte, error) {
	j, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(b)
	if err != nil {
		return nil, err
	}
	return yaml.JSONToYAML(j)
}
