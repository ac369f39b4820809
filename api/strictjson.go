package api

import (
	"bytes"
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"sync"

	"github.com/boxoffice/boxoffice"
)

// strictScanner walks a valid JSON body next to the Go type it was decoded
// into and refuses what encoding/json lets through: a key that names a
// struct field in another case ({"EVENT_ID": ...}), and a key repeated in
// one object (where the last would silently win). It is a byte scanner,
// not a token decoder, so it costs little next to the decode itself.
type strictScanner struct {
	b []byte
	i int
}

// unmarshalerType and textUnmarshalerType mark types that parse their own
// JSON: their objects are checked for duplicates only.
var (
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func (s *strictScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// value checks the value at s.i, decoded into t (nil: anything).
func (s *strictScanner) value(t reflect.Type, path string) error {
	t = elemType(t)
	s.ws()
	if s.i >= len(s.b) {
		return nil
	}
	switch s.b[s.i] {
	case '{':
		return s.object(t, path)
	case '[':
		s.i++
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for {
			s.ws()
			if s.i >= len(s.b) {
				return nil
			}
			switch s.b[s.i] {
			case ']':
				s.i++
				return nil
			case ',':
				s.i++
				continue
			}
			if err := s.value(elem, path); err != nil {
				return err
			}
		}
	case '"':
		s.str()
	default: // number, true, false, null
		for s.i < len(s.b) && !strings.ContainsRune(",]} \t\n\r", rune(s.b[s.i])) {
			s.i++
		}
	}
	return nil
}

// object checks one object's keys: each once, and each a field's exact
// name when t is a struct.
func (s *strictScanner) object(t reflect.Type, path string) error {
	s.i++
	var fields map[string]reflect.Type
	var elem reflect.Type
	if t != nil {
		switch t.Kind() {
		case reflect.Struct:
			fields = structFields(t)
		case reflect.Map:
			elem = t.Elem()
		}
	}
	var seenArr [8][]byte
	seen := seenArr[:0]
	var seenMap map[string]struct{}
	for {
		s.ws()
		if s.i >= len(s.b) {
			return nil
		}
		switch s.b[s.i] {
		case '}':
			s.i++
			return nil
		case ',':
			s.i++
			continue
		}
		key := s.str()
		s.ws()
		s.i++ // ':'
		if dup := seenKey(&seen, &seenMap, key); dup {
			return boxoffice.InvalidField(fieldName(join(path, key)), "duplicate key %q", fieldName(string(key)))
		}
		next := elem
		if fields != nil {
			ft, ok := fields[string(key)]
			if !ok {
				return boxoffice.InvalidField(fieldName(join(path, key)), "unknown field %q (names are case-sensitive)", fieldName(string(key)))
			}
			next = ft
		}
		sub := path
		if s.nested() {
			sub = join(path, key) // only objects and arrays below need it
		}
		if err := s.value(next, sub); err != nil {
			return err
		}
	}
}

// nested says whether the value at s.i (after blanks) is an object or an
// array, the only values whose errors need a path.
func (s *strictScanner) nested() bool {
	s.ws()
	return s.i < len(s.b) && (s.b[s.i] == '{' || s.b[s.i] == '[')
}

// join is the dotted path encoding/json uses in its errors.
func join(path string, key []byte) string {
	if path == "" {
		return string(key)
	}
	return path + "." + string(key)
}

// seenKey records key and says whether it was there already; small
// objects use a slice, large ones a map.
func seenKey(seen *[][]byte, m *map[string]struct{}, key []byte) bool {
	if *m == nil && len(*seen) < 16 {
		for _, k := range *seen {
			if bytes.Equal(k, key) {
				return true
			}
		}
		*seen = append(*seen, key)
		return false
	}
	if *m == nil {
		*m = make(map[string]struct{}, 2*len(*seen))
		for _, k := range *seen {
			(*m)[string(k)] = struct{}{}
		}
	}
	if _, ok := (*m)[string(key)]; ok {
		return true
	}
	(*m)[string(key)] = struct{}{}
	return false
}

// str reads the string at s.i (valid JSON) and returns its value; the
// bytes alias the body unless the string has escapes.
func (s *strictScanner) str() []byte {
	start := s.i
	s.i++
	escaped := false
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '\\':
			escaped = true
			s.i += 2
			continue
		case '"':
			s.i++
			if !escaped {
				return s.b[start+1 : s.i-1]
			}
			var v string
			_ = json.Unmarshal(s.b[start:s.i], &v)
			return []byte(v)
		}
		s.i++
	}
	return nil
}

// fieldName keeps odd keys out of details.field.
func fieldName(s string) string {
	if !printable(s) {
		return "body"
	}
	return s
}

// elemType strips pointers and forgets types that decode themselves.
func elemType(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return nil
	}
	if t.Kind() == reflect.Interface || reflect.PointerTo(t).Implements(unmarshalerType) ||
		reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return nil
	}
	return t
}

var fieldCache sync.Map // reflect.Type -> map[string]reflect.Type

// structFields maps the JSON names of t's fields to their types, as
// encoding/json names them (tag name, else the Go name; embedded structs
// promote theirs).
func structFields(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := map[string]reflect.Type{}
	addFields(m, t, 0)
	fieldCache.Store(t, m)
	return m
}

func addFields(m map[string]reflect.Type, t reflect.Type, depth int) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && depth < 8 {
				addFields(m, ft, depth+1)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, ok := m[name]; !ok || depth == 0 {
			m[name] = f.Type
		}
	}
}
