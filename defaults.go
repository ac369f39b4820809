package boxoffice

import "reflect"

// WithDefaults returns c with every zero field set to that field of
// defaults: "zero means the default", the rule of every Config in the tree,
// in one place instead of one hand-written copy per Config that misses the
// field added last. T must be a struct type; unexported fields are left as
// they are.
func WithDefaults[T any](c, defaults T) T {
	v, d := reflect.ValueOf(&c).Elem(), reflect.ValueOf(defaults)
	for i := range v.NumField() {
		if f := v.Field(i); f.CanSet() && f.IsZero() {
			f.Set(d.Field(i))
		}
	}
	return c
}
