package translate

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"sync"
	"unsafe"
)

// key is the SHA-256 of an IR value's content: every field, exported or
// not, in declaration order, each value length-prefixed or fixed-width, map
// entries sorted by their encoded keys, nil told apart from empty. Two
// values have the same key only if they are deeply equal (up to a SHA-256
// collision), so a resource kept under a key is exactly what building that
// IR would give.
type key [sha256.Size]byte

// keyBufs recycles the encoding buffers of contentKey.
var keyBufs = sync.Pool{New: func() any { return new([]byte) }}

// contentKey is the key of v (a pointer to an IR struct), prefixed by its
// type so that equal encodings of different types do not share a key. It
// fails on kinds the IR does not use (functions, channels, unsafe
// pointers), which would have no content to key by.
func contentKey(v any) (key, error) {
	bp := keyBufs.Get().(*[]byte)
	defer keyBufs.Put(bp)
	rv := reflect.ValueOf(v)
	b := appendString((*bp)[:0], rv.Type().String())
	var err error
	switch {
	case rv.Kind() != reflect.Pointer:
		b, err = appendValue(b, rv)
	case rv.IsNil():
		b = append(b, 0)
	default: // as appendValue would encode the pointer, without copying it
		b, err = encoderOf(rv.Type().Elem()).encode(append(b, 1), rv.UnsafePointer())
	}
	*bp = b
	if err != nil {
		return key{}, err
	}
	return sha256.Sum256(b), nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendValue appends v's encoding: v copied to memory of its own, then
// encoded by its type's encoder (see encoderOf).
func appendValue(b []byte, v reflect.Value) ([]byte, error) {
	p := reflect.New(v.Type())
	p.Elem().Set(v)
	return encoderOf(v.Type()).encode(b, p.UnsafePointer())
}

// encoder appends the encoding of the value of its type at p. Encoders are
// made once per type (encoderOf) from the type's layout, so that keying an
// IR value does not ask reflection the same questions of every field of
// every value (BenchmarkContentKey, 1,000 hosts: 6.2-6.4 ms of CPU per
// round before, 4.7-5.8 ms after; what remains is mostly copying the
// strings and SHA-256 itself). The encoding is the same as walking the value
// with reflection field by field would give.
type encoder struct {
	encode func(b []byte, p unsafe.Pointer) ([]byte, error)
}

var (
	encodersMu sync.Mutex
	encoders   sync.Map // reflect.Type -> *encoder, complete ones
	building   = map[reflect.Type]*encoder{}
)

// encoderOf returns t's encoder, making it on first use. A recursive type
// gets the encoder being made: its encode is set before any value is
// encoded, since making finishes under encodersMu before it is published.
func encoderOf(t reflect.Type) *encoder {
	if e, ok := encoders.Load(t); ok {
		return e.(*encoder)
	}
	encodersMu.Lock()
	defer encodersMu.Unlock()
	return makeEncoder(t)
}

func makeEncoder(t reflect.Type) *encoder {
	if e, ok := encoders.Load(t); ok {
		return e.(*encoder)
	}
	if e := building[t]; e != nil {
		return e
	}
	e := &encoder{}
	building[t] = e
	e.encode = encodeFunc(t)
	delete(building, t)
	encoders.Store(t, e)
	return e
}

// encodeFunc is the encoding of one kind: the format is the one described
// at key.
func encodeFunc(t reflect.Type) func([]byte, unsafe.Pointer) ([]byte, error) {
	switch t.Kind() {
	case reflect.Bool:
		return func(b []byte, p unsafe.Pointer) ([]byte, error) {
			if *(*bool)(p) {
				return append(b, 1), nil
			}
			return append(b, 0), nil
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		load := intLoader(t.Kind())
		return func(b []byte, p unsafe.Pointer) ([]byte, error) { return binary.AppendVarint(b, load(p)), nil }
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		load := uintLoader(t.Kind())
		return func(b []byte, p unsafe.Pointer) ([]byte, error) { return binary.AppendUvarint(b, load(p)), nil }
	case reflect.Float32, reflect.Float64:
		return func(b []byte, p unsafe.Pointer) ([]byte, error) {
			return binary.BigEndian.AppendUint64(b, math.Float64bits(reflect.NewAt(t, p).Elem().Float())), nil
		}
	case reflect.String:
		return func(b []byte, p unsafe.Pointer) ([]byte, error) { return appendString(b, *(*string)(p)), nil }
	case reflect.Pointer:
		return encodePointer(t)
	case reflect.Interface:
		return func(b []byte, p unsafe.Pointer) ([]byte, error) {
			v := reflect.NewAt(t, p).Elem()
			if v.IsNil() {
				return append(b, 0), nil
			}
			b = appendString(append(b, 1), v.Elem().Type().String())
			return appendValue(b, v.Elem())
		}
	case reflect.Struct:
		return encodeStruct(t)
	case reflect.Slice:
		return encodeSlice(t)
	case reflect.Array:
		elem, size, n := makeEncoder(t.Elem()), t.Elem().Size(), t.Len()
		return func(b []byte, p unsafe.Pointer) ([]byte, error) { return appendElems(b, elem, p, size, n) }
	case reflect.Map:
		return encodeMap(t)
	}
	err := fmt.Errorf("cannot key a %s (%s) by its content", t.Kind(), t)
	return func([]byte, unsafe.Pointer) ([]byte, error) { return nil, err }
}

// contentKeys are the content keys of vs, worked out on every core; on
// error, the first in vs's order and its index.
func contentKeys[T any](vs []T) ([]key, int, error) {
	keys := make([]key, len(vs))
	errs := make([]error, len(vs))
	runUnits(len(vs), func(i int) { keys[i], errs[i] = contentKey(vs[i]) })
	for i, err := range errs {
		if err != nil {
			return nil, i, err
		}
	}
	return keys, -1, nil
}
