// Package event holds firewarden's event record: an ECS-shaped set of field
// paths to values, with the four states a field can be in kept apart:
// absent, null, a scalar, or a list.
package event

import (
	"strconv"
	"strings"
)

// Kind is the type of a Value.
type Kind uint8

const (
	Absent Kind = iota // the field is not in the event
	Null               // the field is present with a null value
	Bool
	Int
	Float
	String
	List
)

func (k Kind) String() string {
	switch k {
	case Absent:
		return "absent"
	case Null:
		return "null"
	case Bool:
		return "bool"
	case Int:
		return "int"
	case Float:
		return "float"
	case String:
		return "string"
	case List:
		return "list"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is one field's value. The zero Value is Absent.
type Value struct {
	Kind Kind
	Str  string  // String
	Int  int64   // Int; Bool as 0/1
	Num  float64 // Float
	List []Value // List: scalars only (nested lists are flattened)
}

// Constructors.
func Str(s string) Value      { return Value{Kind: String, Str: s} }
func IntV(i int64) Value      { return Value{Kind: Int, Int: i} }
func FloatV(f float64) Value  { return Value{Kind: Float, Num: f} }
func NullV() Value            { return Value{Kind: Null} }
func ListV(vs ...Value) Value { return Value{Kind: List, List: vs} }
func BoolV(b bool) Value {
	if b {
		return Value{Kind: Bool, Int: 1}
	}
	return Value{Kind: Bool}
}

// Strs makes a list of strings.
func Strs(ss ...string) Value {
	vs := make([]Value, len(ss))
	for i, s := range ss {
		vs[i] = Str(s)
	}
	return ListV(vs...)
}

// Exists reports whether the field is present (null counts as present).
func (v Value) Exists() bool { return v.Kind != Absent }

// IsNull reports whether the value is absent or null.
func (v Value) IsNull() bool { return v.Kind == Absent || v.Kind == Null }

// Truth returns the boolean of a Bool value.
func (v Value) Truth() bool { return v.Kind == Bool && v.Int != 0 }

// Number returns the value as a float64 where it is numeric, or a string
// holding a number.
func (v Value) Number() (float64, bool) {
	switch v.Kind {
	case Int:
		return float64(v.Int), true
	case Float:
		return v.Num, true
	case String:
		f, err := strconv.ParseFloat(strings.TrimSpace(v.Str), 64)
		return f, err == nil
	}
	return 0, false
}

// Each calls fn for each scalar of v: once for a scalar, once per element
// for a list, never for absent. It stops when fn returns false and reports
// whether it ran to the end.
func (v Value) Each(fn func(Value) bool) bool {
	switch v.Kind {
	case Absent:
		return true
	case List:
		for _, e := range v.List {
			if !fn(e) {
				return false
			}
		}
		return true
	}
	return fn(v)
}

// Len is the number of scalars in v (0 for absent, 1 for a scalar).
func (v Value) Len() int {
	switch v.Kind {
	case Absent:
		return 0
	case List:
		return len(v.List)
	}
	return 1
}

// String renders a scalar as text the way rule languages compare it: numbers
// in their shortest form, booleans as true/false, null as "". A list renders
// its elements joined by a space.
func (v Value) String() string {
	switch v.Kind {
	case String:
		return v.Str
	case Int:
		return strconv.FormatInt(v.Int, 10)
	case Float:
		return strconv.FormatFloat(v.Num, 'f', -1, 64)
	case Bool:
		if v.Int != 0 {
			return "true"
		}
		return "false"
	case List:
		parts := make([]string, len(v.List))
		for i, e := range v.List {
			parts[i] = e.String()
		}
		return strings.Join(parts, " ")
	}
	return ""
}

// Equal reports deep equality.
func (v Value) Equal(o Value) bool {
	if v.Kind != o.Kind {
		return false
	}
	switch v.Kind {
	case String:
		return v.Str == o.Str
	case Int, Bool:
		return v.Int == o.Int
	case Float:
		return v.Num == o.Num
	case List:
		if len(v.List) != len(o.List) {
			return false
		}
		for i := range v.List {
			if !v.List[i].Equal(o.List[i]) {
				return false
			}
		}
	}
	return true
}

// Interface converts v to plain Go values for encoding.
func (v Value) Interface() any {
	switch v.Kind {
	case Null:
		return nil
	case Bool:
		return v.Int != 0
	case Int:
		return v.Int
	case Float:
		return v.Num
	case String:
		return v.Str
	case List:
		out := make([]any, len(v.List))
		for i, e := range v.List {
			out[i] = e.Interface()
		}
		return out
	}
	return nil
}

// FromInterface converts decoded JSON-like Go values into a Value. Maps are
// not values (they are flattened into paths by Event.SetTree).
func FromInterface(x any) Value {
	switch t := x.(type) {
	case nil:
		return NullV()
	case bool:
		return BoolV(t)
	case string:
		return Str(t)
	case int:
		return IntV(int64(t))
	case int64:
		return IntV(t)
	case uint32:
		return IntV(int64(t))
	case uint64:
		return IntV(int64(t))
	case float64:
		if t == float64(int64(t)) && t < 1e18 && t > -1e18 {
			return IntV(int64(t))
		}
		return FloatV(t)
	case []string:
		return Strs(t...)
	case []any:
		vs := make([]Value, 0, len(t))
		for _, e := range t {
			ev := FromInterface(e)
			if ev.Kind == List {
				vs = append(vs, ev.List...)
			} else {
				vs = append(vs, ev)
			}
		}
		return ListV(vs...)
	}
	return Str("")
}
