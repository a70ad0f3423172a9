package dump

import (
	"encoding/base64"
	"errors"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// appendJSON appends what protojson.MarshalOptions{UseProtoNames: true}
// renders m as, but for the whitespace protojson varies (which indentTo
// drops): the same fields in the same order, the same scalars. protojson
// walks each message's populated fields through a sorted copy of them
// (order.RangeFields) and writes through an encoder that decides each
// separator afresh; this asks each field in declaration order whether it
// is set, and appends. The well-known types with a JSON form of their own
// (Duration, Struct, the wrappers...) are handed to protojson, whose
// rendering of a message nested or alone is the same. Any error (an Any of
// an unknown type, a string that is not UTF-8) is not reported here: the
// caller renders m with protojson instead, which reports it as it always
// did. Envoy's protos are proto3 and declare no extensions, which this does
// not render.
func appendJSON(b []byte, m protoreflect.Message) ([]byte, error) {
	return jsonEncoder{}.message(b, m, "")
}

// jsonEncoder is appendJSON's, with the typed configs' renderings it
// reuses (nil: none), and, when keys is set, watching for set sensitive
// fields: it sets keys on meeting one (renderer.render).
type jsonEncoder struct {
	anys *anyJSON
	keys *atomic.Bool
}

var errUnrenderable = errors.New("dump: left to protojson")

// message appends m; typeURL, when set, goes first as "@type" (m is
// an Any's payload).
func (e jsonEncoder) message(b []byte, m protoreflect.Message, typeURL string) ([]byte, error) {
	md := m.Descriptor()
	if md.FullName() == anyName {
		return e.anyMsg(b, m)
	}
	if ownJSON(md.FullName()) {
		return e.wellKnown(b, m)
	}
	b = append(b, '{')
	first := true
	if typeURL != "" {
		b = append(b, `"@type":`...)
		var err error
		if b, err = appendString(b, typeURL); err != nil {
			return b, err
		}
		first = false
	}
	fields := md.Fields()
	var secret []bool
	if e.keys != nil {
		secret = sensitiveFields(md)
	}
	for i := range fields.Len() {
		fd := fields.Get(i)
		if !m.Has(fd) {
			continue
		}
		if secret != nil && secret[i] {
			e.keys.Store(true)
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		var err error
		if b, err = appendString(b, fd.TextName()); err != nil {
			return b, err
		}
		b = append(b, ':')
		if b, err = e.value(b, m.Get(fd), fd); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// ownJSON reports whether protojson gives the type a JSON form of its own
// (its wellKnownTypeMarshaler; Any is appendAny's, Empty has none).
func ownJSON(name protoreflect.FullName) bool {
	if name.Parent() != "google.protobuf" {
		return false
	}
	switch name.Name() {
	case "Timestamp", "Duration", "BoolValue", "Int32Value", "Int64Value", "UInt32Value", "UInt64Value",
		"FloatValue", "DoubleValue", "StringValue", "BytesValue", "Struct", "ListValue", "Value", "FieldMask":
		return true
	}
	return false
}

// wellKnown appends a message of a type with a JSON form of its own,
// as protojson's marshalers of those types do (well_known_types.go): the
// ones Envoy's resources hold by the thousand here, the rest by protojson.
func (e jsonEncoder) wellKnown(b []byte, m protoreflect.Message) ([]byte, error) {
	md := m.Descriptor()
	switch md.Name() {
	case "BoolValue", "Int32Value", "Int64Value", "UInt32Value", "UInt64Value",
		"FloatValue", "DoubleValue", "StringValue", "BytesValue":
		fd := md.Fields().ByNumber(1)
		return e.singular(b, m.Get(fd), fd)
	case "Struct", "ListValue":
		fd := md.Fields().ByNumber(1)
		return e.value(b, m.Get(fd), fd)
	case "Value":
		fd := m.WhichOneof(md.Oneofs().ByName("kind"))
		if fd == nil {
			return b, errUnrenderable
		}
		if fd.Kind() == protoreflect.DoubleKind {
			if v := m.Get(fd).Float(); math.IsNaN(v) || math.IsInf(v, 0) {
				return b, errUnrenderable
			}
		}
		return e.singular(b, m.Get(fd), fd)
	case "Duration":
		return appendDuration(b, m.Get(md.Fields().ByNumber(1)).Int(), m.Get(md.Fields().ByNumber(2)).Int())
	}
	return protojson.MarshalOptions{UseProtoNames: true}.MarshalAppend(b, m.Interface())
}

// Duration's range (protojson's maxSecondsInDuration and secondsInNanos).
const (
	maxDurationSeconds = 315576000000
	maxDurationNanos   = 999999999
)

// appendDuration is protojson's marshalDuration: seconds with 0, 3, 6 or 9
// fractional digits and "s".
func appendDuration(b []byte, secs, nanos int64) ([]byte, error) {
	if secs < -maxDurationSeconds || secs > maxDurationSeconds || nanos < -maxDurationNanos || nanos > maxDurationNanos ||
		(secs > 0 && nanos < 0) || (secs < 0 && nanos > 0) {
		return b, errUnrenderable
	}
	b = append(b, '"')
	if secs < 0 || nanos < 0 {
		b = append(b, '-')
		secs, nanos = -secs, -nanos
	}
	b = strconv.AppendInt(b, secs, 10)
	if nanos != 0 {
		frac := strconv.AppendInt(make([]byte, 0, 10), nanos+1e9, 10)[1:] // nine digits
		switch {
		case nanos%1e6 == 0:
			frac = frac[:3]
		case nanos%1e3 == 0:
			frac = frac[:6]
		}
		b = append(b, '.')
		b = append(b, frac...)
	}
	return append(b, 's', '"'), nil
}

// anyMsg appends an Any as protojson's marshalAny does: "@type" and the
// payload's fields, or "@type" and "value" for a payload with a JSON form
// of its own.
func (e jsonEncoder) anyMsg(b []byte, m protoreflect.Message) ([]byte, error) {
	fds := m.Descriptor().Fields()
	fdType, fdValue := fds.ByNumber(1), fds.ByNumber(2)
	if !m.Has(fdType) {
		if !m.Has(fdValue) {
			return append(b, '{', '}'), nil
		}
		return b, errUnrenderable
	}
	typeURL, value := m.Get(fdType).String(), m.Get(fdValue).Bytes()
	if e.anys == nil {
		return e.anyPayload(b, typeURL, value)
	}
	h := e.anys.hash(typeURL, value)
	if json := e.anys.get(h, typeURL, value, e.keys != nil); json != nil {
		return append(b, json...), nil
	}
	start := len(b)
	b, err := e.anyPayload(b, typeURL, value)
	if err == nil {
		e.anys.put(h, typeURL, value, b[start:], e.keys != nil && !e.keys.Load())
	}
	return b, err
}

// secretFields caches sensitiveFields by message type.
var secretFields sync.Map // protoreflect.FullName -> []bool

// sensitiveFields says, by field index, which of md's fields are marked
// sensitive; nil if none is.
func sensitiveFields(md protoreflect.MessageDescriptor) []bool {
	if v, ok := secretFields.Load(md.FullName()); ok {
		return v.([]bool)
	}
	var out []bool
	fields := md.Fields()
	for i := range fields.Len() {
		if sensitive(fields.Get(i)) {
			if out == nil {
				out = make([]bool, fields.Len())
			}
			out[i] = true
		}
	}
	secretFields.Store(md.FullName(), out)
	return out
}

// anyPayload appends an Any of type typeURL holding value.
func (e jsonEncoder) anyPayload(b []byte, typeURL string, value []byte) ([]byte, error) {
	mt, err := protoregistry.GlobalTypes.FindMessageByURL(typeURL)
	if err != nil {
		return b, errUnrenderable
	}
	payload := mt.New()
	if err := (proto.UnmarshalOptions{AllowPartial: true, Resolver: protoregistry.GlobalTypes}).Unmarshal(value, payload.Interface()); err != nil {
		return b, errUnrenderable
	}
	name := mt.Descriptor().FullName()
	if !ownJSON(name) && name != anyName {
		return e.message(b, payload, typeURL)
	}
	b = append(b, `{"@type":`...)
	if b, err = appendString(b, typeURL); err != nil {
		return b, err
	}
	b = append(b, `,"value":`...)
	if b, err = e.message(b, payload, ""); err != nil {
		return b, err
	}
	return append(b, '}'), nil
}

// value appends a set field's value.
func (e jsonEncoder) value(b []byte, v protoreflect.Value, fd protoreflect.FieldDescriptor) ([]byte, error) {
	switch {
	case fd.IsList():
		l := v.List()
		b = append(b, '[')
		for i := range l.Len() {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = e.singular(b, l.Get(i), fd); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	case fd.IsMap():
		return e.mapValue(b, v.Map(), fd)
	}
	return e.singular(b, v, fd)
}

// mapValue appends a map's entries by key: false before true, numbers
// ascending, strings by bytes (protojson's order.GenericKeyOrder).
func (e jsonEncoder) mapValue(b []byte, mp protoreflect.Map, fd protoreflect.FieldDescriptor) ([]byte, error) {
	keys := make([]protoreflect.MapKey, 0, mp.Len())
	mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
		keys = append(keys, k)
		return true
	})
	slices.SortFunc(keys, func(x, y protoreflect.MapKey) int {
		if genericKeyLess(x, y) {
			return -1
		}
		if genericKeyLess(y, x) {
			return 1
		}
		return 0
	})
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendString(b, k.String()); err != nil {
			return b, err
		}
		b = append(b, ':')
		if b, err = e.singular(b, mp.Get(k), fd.MapValue()); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// genericKeyLess is protojson's order.GenericKeyOrder.
func genericKeyLess(x, y protoreflect.MapKey) bool {
	switch x.Interface().(type) {
	case bool:
		return !x.Bool() && y.Bool()
	case int32, int64:
		return x.Int() < y.Int()
	case uint32, uint64:
		return x.Uint() < y.Uint()
	}
	return x.String() < y.String()
}

// singular appends one value as protojson's marshalSingular does.
func (e jsonEncoder) singular(b []byte, v protoreflect.Value, fd protoreflect.FieldDescriptor) ([]byte, error) {
	if !v.IsValid() {
		return append(b, "null"...), nil
	}
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return strconv.AppendBool(b, v.Bool()), nil
	case protoreflect.StringKind:
		return appendString(b, v.String())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return strconv.AppendInt(b, v.Int(), 10), nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return strconv.AppendUint(b, v.Uint(), 10), nil
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		b = append(b, '"')
		return append(strconv.AppendInt(b, v.Int(), 10), '"'), nil
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		b = append(b, '"')
		return append(strconv.AppendUint(b, v.Uint(), 10), '"'), nil
	case protoreflect.FloatKind:
		return appendFloat(b, v.Float(), 32), nil
	case protoreflect.DoubleKind:
		return appendFloat(b, v.Float(), 64), nil
	case protoreflect.BytesKind:
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, v.Bytes())
		return append(b, '"'), nil
	case protoreflect.EnumKind:
		if fd.Enum().FullName() == "google.protobuf.NullValue" {
			return append(b, "null"...), nil
		}
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return appendString(b, string(ev.Name()))
		}
		return strconv.AppendInt(b, int64(v.Enum()), 10), nil
	case protoreflect.MessageKind:
		return e.message(b, v.Message(), "")
	}
	return b, errUnrenderable // groups: not in proto3
}

// appendFloat is protojson's (internal/encoding/json's appendFloat): NaN
// and the infinities as strings, encoding/json's choice between 'f' and
// 'e', and an exponent's leading zero dropped.
func appendFloat(out []byte, n float64, bitSize int) []byte {
	switch {
	case math.IsNaN(n):
		return append(out, `"NaN"`...)
	case math.IsInf(n, +1):
		return append(out, `"Infinity"`...)
	case math.IsInf(n, -1):
		return append(out, `"-Infinity"`...)
	}
	format := byte('f')
	if abs := math.Abs(n); abs != 0 {
		if bitSize == 64 && (abs < 1e-6 || abs >= 1e21) ||
			bitSize == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	out = strconv.AppendFloat(out, n, format, -1, bitSize)
	if format == 'e' {
		n := len(out)
		if n >= 4 && out[n-4] == 'e' && out[n-3] == '-' && out[n-2] == '0' {
			out[n-2] = out[n-1]
			out = out[:n-1]
		}
	}
	return out
}

// appendString is protojson's (internal/encoding/json's appendString):
// '"', '\\' and control characters escaped, nothing else; a string that is
// not UTF-8 is an error.
func appendString(out []byte, in string) ([]byte, error) {
	out = append(out, '"')
	i := indexNeedEscape(in)
	in, out = in[i:], append(out, in[:i]...)
	for len(in) > 0 {
		switch r, n := utf8.DecodeRuneInString(in); {
		case r == utf8.RuneError && n == 1:
			return out, errUnrenderable
		case r < ' ' || r == '"' || r == '\\':
			out = append(out, '\\')
			switch r {
			case '"', '\\':
				out = append(out, byte(r))
			case '\b':
				out = append(out, 'b')
			case '\f':
				out = append(out, 'f')
			case '\n':
				out = append(out, 'n')
			case '\r':
				out = append(out, 'r')
			case '\t':
				out = append(out, 't')
			default:
				out = append(out, 'u')
				out = append(out, "0000"[1+(bits.Len32(uint32(r))-1)/4:]...)
				out = strconv.AppendUint(out, uint64(r), 16)
			}
			in = in[n:]
		default:
			i := indexNeedEscape(in[n:])
			in, out = in[n+i:], append(out, in[:n+i]...)
		}
	}
	return append(out, '"'), nil
}

// indexNeedEscape is the index of the first byte of s appendString must
// look at, len(s) if none: ASCII is checked a byte at a time, the rest
// by rune.
func indexNeedEscape(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < ' ' || c == '\\' || c == '"' {
				return i
			}
			continue
		}
		for j, r := range s[i:] {
			if r < ' ' || r == '\\' || r == '"' || r == utf8.RuneError {
				return i + j
			}
		}
		return len(s)
	}
	return len(s)
}
