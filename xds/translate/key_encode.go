package translate

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"slices"
	"unsafe"
)

// encodePointer: 0 for nil, else 1 and the value pointed to.
func encodePointer(t reflect.Type) func([]byte, unsafe.Pointer) ([]byte, error) {
	elem := makeEncoder(t.Elem())
	return func(b []byte, p unsafe.Pointer) ([]byte, error) {
		q := *(*unsafe.Pointer)(p)
		if q == nil {
			return append(b, 0), nil
		}
		return elem.encode(append(b, 1), q)
	}
}

// encodeStruct: every field, exported or not, in declaration order.
func encodeStruct(t reflect.Type) func([]byte, unsafe.Pointer) ([]byte, error) {
	type field struct {
		offset uintptr
		enc    *encoder
	}
	fields := make([]field, t.NumField())
	for i := range fields {
		f := t.Field(i)
		fields[i] = field{f.Offset, makeEncoder(f.Type)}
	}
	return func(b []byte, p unsafe.Pointer) ([]byte, error) {
		var err error
		for _, f := range fields {
			if b, err = f.enc.encode(b, unsafe.Add(p, f.offset)); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
}

// encodeSlice: 0 for nil, else 1 and the elements (bytes as one string).
func encodeSlice(t reflect.Type) func([]byte, unsafe.Pointer) ([]byte, error) {
	if t.Elem().Kind() == reflect.Uint8 {
		return func(b []byte, p unsafe.Pointer) ([]byte, error) {
			s := *(*[]byte)(p)
			if s == nil {
				return append(b, 0), nil
			}
			return appendString(append(b, 1), string(s)), nil
		}
	}
	elem, size := makeEncoder(t.Elem()), t.Elem().Size()
	return func(b []byte, p unsafe.Pointer) ([]byte, error) {
		data := *(*unsafe.Pointer)(p) // a slice header starts with its array
		if data == nil {
			return append(b, 0), nil
		}
		return appendElems(append(b, 1), elem, data, size, len(*(*[]struct{})(p)))
	}
}

// appendElems appends the count, then n elements of size bytes from p.
func appendElems(b []byte, elem *encoder, p unsafe.Pointer, size uintptr, n int) ([]byte, error) {
	b = binary.AppendUvarint(b, uint64(n))
	var err error
	for i := range n {
		if b, err = elem.encode(b, unsafe.Add(p, uintptr(i)*size)); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// encodeMap encodes a map's entries sorted by their encoded keys, so that
// Go's random map order does not reach the key: 0 for nil, else 1, the
// count and the entries.
func encodeMap(t reflect.Type) func([]byte, unsafe.Pointer) ([]byte, error) {
	return func(b []byte, p unsafe.Pointer) ([]byte, error) {
		v := reflect.NewAt(t, p).Elem()
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
}

// intLoader reads a signed integer of kind k (named types share the
// layout of their kind).
func intLoader(k reflect.Kind) func(unsafe.Pointer) int64 {
	switch k {
	case reflect.Int8:
		return func(p unsafe.Pointer) int64 { return int64(*(*int8)(p)) }
	case reflect.Int16:
		return func(p unsafe.Pointer) int64 { return int64(*(*int16)(p)) }
	case reflect.Int32:
		return func(p unsafe.Pointer) int64 { return int64(*(*int32)(p)) }
	case reflect.Int64:
		return func(p unsafe.Pointer) int64 { return *(*int64)(p) }
	}
	return func(p unsafe.Pointer) int64 { return int64(*(*int)(p)) }
}

// uintLoader reads an unsigned integer of kind k.
func uintLoader(k reflect.Kind) func(unsafe.Pointer) uint64 {
	switch k {
	case reflect.Uint8:
		return func(p unsafe.Pointer) uint64 { return uint64(*(*uint8)(p)) }
	case reflect.Uint16:
		return func(p unsafe.Pointer) uint64 { return uint64(*(*uint16)(p)) }
	case reflect.Uint32:
		return func(p unsafe.Pointer) uint64 { return uint64(*(*uint32)(p)) }
	case reflect.Uint64:
		return func(p unsafe.Pointer) uint64 { return *(*uint64)(p) }
	case reflect.Uintptr:
		return func(p unsafe.Pointer) uint64 { return uint64(*(*uintptr)(p)) }
	}
	return func(p unsafe.Pointer) uint64 { return uint64(*(*uint)(p)) }
}
