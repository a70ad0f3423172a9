package translate

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sync"
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
	b, err := appendValue(b, rv)
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

func appendValue(b []byte, v reflect.Value) ([]byte, error) {
	switch v.Kind() {
	case reflect.Bool:
		if v.Bool() {
			return append(b, 1), nil
		}
		return append(b, 0), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return binary.AppendVarint(b, v.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return binary.AppendUvarint(b, v.Uint()), nil
	case reflect.Float32, reflect.Float64:
		return binary.BigEndian.AppendUint64(b, math.Float64bits(v.Float())), nil
	case reflect.String:
		return appendString(b, v.String()), nil
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return append(b, 0), nil
		}
		b = append(b, 1)
		if v.Kind() == reflect.Interface {
			b = appendString(b, v.Elem().Type().String())
		}
		return appendValue(b, v.Elem())
	case reflect.Struct:
		var err error
		for i := range v.NumField() {
			if b, err = appendValue(b, v.Field(i)); err != nil {
				return nil, err
			}
		}
		return b, nil
	case reflect.Slice:
		if v.IsNil() {
			return append(b, 0), nil
		}
		b = append(b, 1)
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return appendString(b, string(v.Bytes())), nil
		}
		return appendElems(b, v)
	case reflect.Array:
		return appendElems(b, v)
	case reflect.Map:
		return appendMap(b, v)
	}
	return nil, fmt.Errorf("cannot key a %s (%s) by its content", v.Kind(), v.Type())
}

func appendElems(b []byte, v reflect.Value) ([]byte, error) {
	b = binary.AppendUvarint(b, uint64(v.Len()))
	var err error
	for i := range v.Len() {
		if b, err = appendValue(b, v.Index(i)); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// appendMap encodes a map's entries sorted by their encoded keys, so that
// Go's random map order does not reach the key.
func appendMap(b []byte, v reflect.Value) ([]byte, error) {
	if v.IsNil() {
		return append(b, 0), nil
	}
	type entry struct{ k, v []byte }
	entries := make([]entry, 0, v.Len())
	for it := v.MapRange(); it.Next(); {
		k, err := appendValue(nil, it.Key())
		if err != nil {
			return nil, err
		}
		e, err := appendValue(nil, it.Value())
		if err != nil {
			return nil, err
		}
		entries = append(entries, entry{k, e})
	}
	slices.SortFunc(entries, func(x, y entry) int { return bytes.Compare(x.k, y.k) })
	b = append(b, 1)
	b = binary.AppendUvarint(b, uint64(len(entries)))
	for _, e := range entries {
		b = append(append(b, e.k...), e.v...)
	}
	return b, nil
}
