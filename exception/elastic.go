package exception

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/query"
)

// Entry is one condition of an Elastic exception item, as Kibana stores
// and exports it.
type Entry struct {
	Field    string          `json:"field" yaml:"field"`
	Operator string          `json:"operator" yaml:"operator"` // included, excluded
	Type     string          `json:"type" yaml:"type"`         // match, match_any, exists, wildcard, nested, list
	Value    json.RawMessage `json:"value" yaml:"-"`
	Entries  []Entry         `json:"entries" yaml:"entries"` // nested
	List     json.RawMessage `json:"list" yaml:"-"`

	value []string // decoded Value
}

// item is an exception item of a Kibana export.
type item struct {
	ItemID      string  `json:"item_id"`
	ListID      string  `json:"list_id"`
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Type        string  `json:"type"`
	Entries     []Entry `json:"entries"`
	OSTypes     []string
	ExpireTime  string `json:"expire_time"`
	// Lists (the first line of an export) have no entries and a type
	// such as "detection"; the export's last line is a summary.
	ExportedCount *int `json:"exported_exception_list_count"`
}

// ParseKibana reads a Kibana exception list export (NDJSON): every item
// becomes one Exception carrying its list id. List lines and the export
// summary are skipped. A malformed line is an error at its position; the
// other items are still returned, so one bad item never stops the rest.
func ParseKibana(file string, data []byte) ([]*Exception, []error) {
	var out []*Exception
	var errs []error
	for i, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		at := query.Pos{File: file, Line: i + 1, Col: 1}
		var raw struct {
			item
			OSTypes []string `json:"os_types"`
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		if err := dec.Decode(&raw); err != nil {
			errs = append(errs, query.Errorf(at, "%v, expected one JSON object per line (a Kibana exception list export)", err))
			continue
		}
		it := raw.item
		it.OSTypes = raw.OSTypes
		if it.ExportedCount != nil || it.ItemID == "" {
			continue // the list itself, or the export summary
		}
		x, err := fromItem(at, it)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if x != nil {
			out = append(out, x)
		}
	}
	return out, errs
}

func fromItem(at query.Pos, it item) (*Exception, error) {
	if len(it.OSTypes) > 0 && !slices.Contains(it.OSTypes, "linux") {
		return nil, nil // an item for other systems never applies here
	}
	if it.Type != "" && it.Type != "simple" {
		return nil, &query.Unsupported{Pos: at, Construct: "exception item type " + it.Type, Why: "only simple items hold entries"}
	}
	x := &Exception{Name: it.Name, Description: it.Description, Pos: at, ListID: it.ListID}
	if x.Name == "" {
		x.Name = it.ItemID
	}
	if it.ExpireTime != "" {
		t, err := time.Parse(time.RFC3339, it.ExpireTime)
		if err != nil {
			return nil, query.Errorf(at, "expire_time %q, expected an RFC 3339 time", it.ExpireTime)
		}
		x.Expires = t
	}
	m, err := Entries(at, it.Entries)
	if err != nil {
		return nil, err
	}
	x.Match = m
	return x, nil
}

// Entries compiles an item's entries (ANDed) into one predicate, with
// the semantics of the query Kibana builds from them: "is" a term query
// (exact, case-sensitive, any value of a multi-valued field), "is not"
// its must_not (true where the field is missing), "matches" a wildcard
// query (* and ?, case-sensitive), "exists" an exists query, and nested
// entries tested on the nested object's fields.
func Entries(at query.Pos, es []Entry) (query.Expr, error) {
	if len(es) == 0 {
		return nil, query.Errorf(at, "an exception item without entries, expected at least one")
	}
	var xs []query.Expr
	for i := range es {
		x, err := entry(at, &es[i], "")
		if err != nil {
			return nil, err
		}
		xs = append(xs, x)
	}
	if len(xs) == 1 {
		return xs[0], nil
	}
	return query.And{X: xs}, nil
}

func entry(at query.Pos, e *Entry, prefix string) (query.Expr, error) {
	if e.Field == "" {
		return nil, query.Errorf(at, "an exception entry without a field")
	}
	path := e.Field
	if prefix != "" {
		path = prefix + "." + e.Field
	}
	if e.Type == "nested" {
		if prefix != "" {
			return nil, query.Errorf(at, "nested entry inside nested entry %q, expected one level", prefix)
		}
		if len(e.Entries) == 0 {
			return nil, query.Errorf(at, "nested entry %q without entries", e.Field)
		}
		var xs []query.Expr
		for i := range e.Entries {
			x, err := entry(at, &e.Entries[i], path)
			if err != nil {
				return nil, err
			}
			xs = append(xs, x)
		}
		// firewarden flattens an array of objects into per-field value
		// lists, losing which value came from which object. With one
		// object that loses nothing; with several the exception cannot
		// tell whether one object satisfies every entry, so it does not
		// apply: the alert stands rather than being silenced by a guess.
		for i := range e.Entries {
			xs = append(xs, query.Compare{Op: query.Le,
				L: query.Call{Name: "valuecount", Args: []query.Expr{query.Field{Path: path + "." + e.Entries[i].Field}}},
				R: query.Lit{V: event.IntV(1)}})
		}
		return query.And{X: xs}, nil
	}
	var not bool
	switch e.Operator {
	case "included", "":
	case "excluded":
		not = true
	default:
		return nil, query.Errorf(at, "exception operator %q on %s, expected included or excluded", e.Operator, e.Field)
	}
	if err := e.decode(at); err != nil {
		return nil, err
	}
	f := query.Field{Path: path}
	var x query.Expr
	switch e.Type {
	case "match", "match_any":
		if len(e.value) == 0 {
			return nil, query.Errorf(at, "%s entry on %s without a value", e.Type, e.Field)
		}
		x = query.Match{Field: f, Op: query.Equal, Values: e.value}
	case "wildcard":
		if len(e.value) != 1 {
			return nil, query.Errorf(at, "wildcard entry on %s, expected one pattern", e.Field)
		}
		x = query.Match{Field: f, Op: query.Glob, Values: []string{strings.ReplaceAll(e.value[0], `\`, `\\`)}}
	case "exists":
		x = query.Exists{Path: path}
	case "list":
		return nil, &query.Unsupported{Pos: at, Construct: "exception entry of type list", Why: "value lists live in Kibana; export the values into a match_any entry"}
	default:
		return nil, query.Errorf(at, "exception entry type %q on %s, expected match, match_any, wildcard, exists, nested or list", e.Type, e.Field)
	}
	if not {
		return query.Not{X: x}, nil
	}
	return x, nil
}

// decode reads Value: a string, or a list of strings for match_any.
func (e *Entry) decode(at query.Pos) error {
	if e.value != nil || len(e.Value) == 0 {
		return nil
	}
	var s string
	if err := json.Unmarshal(e.Value, &s); err == nil {
		e.value = []string{s}
		return nil
	}
	var ss []string
	if err := json.Unmarshal(e.Value, &ss); err != nil {
		return query.Errorf(at, "value of the entry on %s: %v, expected a string or a list of strings", e.Field, err)
	}
	e.value = ss
	return nil
}

// String describes an entry for messages.
func (e Entry) String() string { return fmt.Sprintf("%s %s %s", e.Field, e.Operator, e.Type) }
