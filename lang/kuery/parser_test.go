package kuery

import (
	"errors"
	"testing"

	"github.com/firewarden/firewarden/query"
)

func TestParse(t *testing.T) {
	tests := []struct{ lang, src, want string }{
		// KQL.
		{KQL, `a:b`, `a:"b"`},
		{KQL, `  a : b  `, `a:"b"`},
		{KQL, `a:"b c"`, `a:phrase"b c"`},
		{KQL, `a:b c`, `a:"b c"`},
		{KQL, `a:b or c`, `(or a:"b" _:"c")`},
		{KQL, `a:(b or c and not d)`, `(or a:"b" (and a:"c" (not a:"d")))`},
		{KQL, `a:(b OR c) AND NOT x:y`, `(and (or a:"b" a:"c") (not x:"y"))`},
		{KQL, `a:b and c:d or e:f and g:h`, `(or (and a:"b" c:"d") (and e:"f" g:"h"))`},
		{KQL, `(a:b or c:d) and e:f`, `(and (or a:"b" c:"d") e:"f")`},
		{KQL, `a:*`, `a:exists`},
		{KQL, `a:b*`, `a:glob"b*"`},
		{KQL, `a:b?c`, `a:"b?c"`},
		{KQL, `a:\*b?\(\)\:`, `a:"*b?():"`},
		{KQL, `a:b and`, `a:"b and"`},
		{KQL, `a:x\*y*`, `a:glob"x\\*y*"`},
		{KQL, `a:\or\AND\not x`, `a:"orAND\not x"`}, // \n before \not
		{KQL, `a:\tb\u0041`, `a:"bA"`},
		{KQL, `a:"\"q\" \\ \d \u00e9 \n"`, `a:phrase"\"q\" \\ \\d é \n"`},
		{KQL, `a:"\ud83d\ude00"`, `a:phrase"😀"`},
		{KQL, `a >= 5`, `a:["5" TO *}`},
		{KQL, `a<"x y"`, `a:{* TO "x y"}`},
		{KQL, `a:true`, `a:"true"`},
		{KQL, `"a b":c`, `a b:"c"`},
		{KQL, `null:x`, `_:"x"`},
		{KQL, `x`, `_:"x"`},
		{KQL, `"x y"`, `_:phrase"x y"`},
		{KQL, `*`, `all`},
		{KQL, `*:*`, `all`},
		{KQL, ``, `all`},
		{KQL, `n:{ a:b and c:d }`, `(nested n (and a:"b" c:"d"))`},
		{KQL, `a:b* c*`, `(or a:glob"b*" a:glob"c*")`},
		{KQL, `a:* b`, `(or a:exists a:"b")`},
		{KQL, `a:knot`, `a:"knot"`},
		{KQL, `a:b or`, `a:"b or"`},
		{KQL, "a:b\u00a0and\u00a0c:d", `(and a:"b" c:"d")`},
		// Lucene.
		{Lucene, `a:b`, `a:"b"`},
		{Lucene, `a:b c:d`, `(or a:"b" c:"d")`},
		{Lucene, `a:b AND c:d`, `(and a:"b" c:"d")`},
		{Lucene, `a:b && c:d || e:f`, `(and a:"b" c:"d")`},
		{Lucene, `a:b OR c:d AND e:f`, `(and c:"d" e:"f")`},
		{Lucene, `+a:b -c:d e:f`, `(and a:"b" (not c:"d"))`},
		{Lucene, `a:b OR NOT c:d`, `(and a:"b" (not c:"d"))`},
		{Lucene, `NOT a:b`, `(not a:"b")`},
		{Lucene, `!a:b -c:d`, `(and (not a:"b") (not c:"d"))`},
		{Lucene, `a:(b OR c)`, `(or a:"b" a:"c")`},
		{Lucene, `a:(b c*)`, `(or a:"b" a:glob"c*")`},
		{Lucene, `a:"b \"c\""`, `a:phrase"b \"c\""`},
		{Lucene, `a:b\ c\:d\u0041`, `a:"b c:dA"`},
		{Lucene, `a:b?c*`, `a:glob"b?c*"`},
		{Lucene, `a:\/usr\/bin\/*`, `a:glob"\\/usr\\/bin\\/*"`},
		{Lucene, `a:/x\/y.*/`, `a:/x\/y.*/`},
		{Lucene, `a:[1 TO 5]`, `a:["1" TO "5"]`},
		{Lucene, `a:{1 TO 5]`, `a:{"1" TO "5"]`},
		{Lucene, `a:[* TO "x y"}`, `a:[* TO "x y"}`},
		{Lucene, `a:>=5`, `a:["5" TO *}`},
		{Lucene, `a:<5`, `a:{* TO "5"}`},
		{Lucene, `a:*`, `a:exists`},
		{Lucene, `_exists_:a.b`, `a.b:exists`},
		{Lucene, `*:*`, `all`},
		{Lucene, `*`, `all`},
		{Lucene, `x`, `_:"x"`},
		{Lucene, `x*`, `_:glob"x*"`},
		{Lucene, `*:x`, `_:"x"`},
		{Lucene, ``, `all`},
		{Lucene, `a:ANDROID`, `a:"ANDROID"`},
		{Lucene, `a:b-c+d`, `a:"b-c+d"`},
		{Lucene, `(a:b)`, `a:"b"`},
	}
	for _, tc := range tests {
		t.Run(tc.lang+" "+tc.src, func(t *testing.T) {
			n, err := Parse(tc.src, tc.lang, query.Pos{})
			if err != nil {
				t.Fatal(err)
			}
			if got := n.String(); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestParseErrors: errors are positioned in the file that holds the query:
// the first line starts at the base column, later lines at column 1.
func TestParseErrors(t *testing.T) {
	base := query.Pos{File: "r.toml", Line: 10, Col: 10}
	tests := []struct{ lang, src, want string }{
		{KQL, `a:b and `, `r.toml:10:18: expected a field name, a value or "(", found end of query`},
		{KQL, `a:(b or c`, `r.toml:10:19: expected ")", "and" or "or", found end of query`},
		{KQL, "a:b and\n  c:\"d", `r.toml:11:5: unterminated quoted string`},
		{KQL, "a:b and\n  (c:d))", `r.toml:11:8: expected "and", "or" or the end of the query, found ")"`},
		{KQL, `a:`, `r.toml:10:12: expected a value or "(", found end of query`},
		{KQL, `a:not b`, `r.toml:10:12: expected a value or "(", found "n"`},
		{KQL, `not not a:b`, `r.toml:10:14: expected a field name, a value or "(", found "n"`},
		{KQL, `a:b\c`, `r.toml:10:13: expected "and", "or" or the end of the query, found "\\"`},
		{KQL, `a:\ud800`, `r.toml:10:12: invalid escape \ud800: a lone UTF-16 surrogate`},
		{KQL, `a >`, `r.toml:10:13: expected a value after ">", found end of query`},
		{KQL, "a:b \xff", `r.toml:10:14: invalid UTF-8 byte 0xff`},
		{KQL, "a:{b:c", `r.toml:10:16: expected "}", "and" or "or", found end of query`},
		{Lucene, `a:b AND`, `r.toml:10:17: expected a term, a phrase, a range or "(", found end of query`},
		{Lucene, `a:(b`, `r.toml:10:14: expected ")", an operator or a term, found end of query`},
		{Lucene, `a:"b`, `r.toml:10:12: unterminated quoted string`},
		{Lucene, `a:/b`, `r.toml:10:12: unterminated regular expression`},
		{Lucene, `a:[1 TO`, `r.toml:10:12: unterminated range`},
		{Lucene, `a:[1 5]`, `r.toml:10:15: expected "TO" in the range, found "5"`},
		{Lucene, "a:b\n OR c:d]", `r.toml:11:8: unexpected character ']'`},
		{Lucene, `a:b\`, `r.toml:10:13: the query ends with an escape character`},
		{Lucene, `a:\u00`, `r.toml:10:12: truncated unicode escape`},
		{Lucene, `--a`, `r.toml:10:11: expected a term, a phrase, a range or "(", found "-"`},
		{Lucene, `AND a`, `r.toml:10:10: expected a term, a phrase, a range or "(", found "AND"`},
		{Lucene, `a:b)`, `r.toml:10:13: expected an operator, a term or the end of the query, found ")"`},
		{"kql", `a:b`, `r.toml:10:10: unknown query language "kql"`},
	}
	for _, tc := range tests {
		t.Run(tc.lang+" "+tc.src, func(t *testing.T) {
			_, err := Parse(tc.src, tc.lang, base)
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			var qe *query.Error
			if !errors.As(err, &qe) {
				t.Errorf("error is a %T, want *query.Error", err)
			}
			if got := err.Error(); len(got) < len(tc.want) || got[:len(tc.want)] != tc.want {
				t.Errorf("error %q\nwant     %q…", got, tc.want)
			}
		})
	}
}

// TestRefusalPositions: a refusal carries the position of its construct.
func TestRefusalPositions(t *testing.T) {
	_, err := Compile("a:b and\n  user:{ first:x }", KQL, Options{Base: query.Pos{File: "r.toml", Line: 3, Col: 9}})
	var u *query.Unsupported
	if !errors.As(err, &u) || u.Pos != (query.Pos{File: "r.toml", Line: 4, Col: 3}) || u.Construct != "nested query user:{…}" {
		t.Errorf("error %v, want an unsupported nested query at r.toml:4:3", err)
	}
}
