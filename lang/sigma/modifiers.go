package sigma

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/firewarden/firewarden/query"
)

// modifier is one value modifier of the spec (appendix "Sigma Modifiers").
type modifier uint8

const (
	mNone modifier = iota
	mContains
	mStartswith
	mEndswith
	mAll
	mExists
	mCased
	mNeq
	mWindash
	mRe
	mReI
	mReM
	mReS
	mBase64
	mBase64Offset
	mUTF16LE
	mUTF16BE
	mUTF16
	mCIDR
	mLt
	mLte
	mGt
	mGte
	mExpand
	mFieldref
	mMinute
	mHour
	mDay
	mWeek
	mMonth
	mYear
)

// modifierNames lists the spelling accepted, for error messages.
const modifierNames = "all, base64, base64offset, cased, cidr, contains, day, endswith, exists, expand, fieldref, gt, gte, hour, lt, lte, minute, month, neq, re (with i, m, s), startswith, utf16, utf16be, utf16le, wide, week, windash, year"

// lookupModifier maps a modifier name to its kind. ignorecase, multiline
// and dotall are pySigma's long names of the re flags; wide is utf16le.
func lookupModifier(name string) modifier {
	switch name {
	case "contains":
		return mContains
	case "startswith":
		return mStartswith
	case "endswith":
		return mEndswith
	case "all":
		return mAll
	case "exists":
		return mExists
	case "cased":
		return mCased
	case "neq":
		return mNeq
	case "windash":
		return mWindash
	case "re":
		return mRe
	case "i", "ignorecase":
		return mReI
	case "m", "multiline":
		return mReM
	case "s", "dotall":
		return mReS
	case "base64":
		return mBase64
	case "base64offset":
		return mBase64Offset
	case "utf16le", "wide":
		return mUTF16LE
	case "utf16be":
		return mUTF16BE
	case "utf16":
		return mUTF16
	case "cidr":
		return mCIDR
	case "lt":
		return mLt
	case "lte":
		return mLte
	case "gt":
		return mGt
	case "gte":
		return mGte
	case "expand":
		return mExpand
	case "fieldref":
		return mFieldref
	case "minute":
		return mMinute
	case "hour":
		return mHour
	case "day":
		return mDay
	case "week":
		return mWeek
	case "month":
		return mMonth
	case "year":
		return mYear
	}
	return mNone
}

// vkind is the type a value has at some point of its modifier chain, as
// pySigma types it.
type vkind uint8

const (
	vStr vkind = iota
	vNum
	vBool
	vNull
	vRe
	vCIDR
	vRef
	vCmp
	vTime
	vExists
)

func (k vkind) String() string {
	return [...]string{"a string", "a number", "a boolean", "null", "a regular expression", "a CIDR network", "a field reference", "a comparison", "a time part", "an existence test"}[k]
}

// sval is one value of a detection item on its way through the modifiers.
type sval struct {
	kind vkind
	node *yaml.Node
	text string    // the scalar as written (rendered for numbers); the regex; the CIDR; the referenced field
	alts []pattern // vStr: the alternatives it stands for (more than one after windash, base64offset)

	isInt bool // vNum, vCmp, vTime operand
	i     int64
	f     float64

	reFlags        string // vRe: subset of "ims"
	atStart, atEnd bool   // vRe: anchored by startswith/endswith; vRef: starts/ends with
	cmp            query.CmpOp
	hasCmp         bool
	timePart       string // vTime: minute, hour...
	exists         bool   // vExists
	valueMods      int    // value modifiers applied so far
}

// asString makes a number or boolean a string value: Sigma compares them
// as text.
func asString(v *sval) {
	if v.kind == vNum || v.kind == vBool {
		v.kind = vStr
		v.alts = []pattern{literalPattern(v.text)}
	}
}

// modify applies one modifier to every value of it.
func (c *compiler) modify(it *item, name string, at query.Pos) error {
	m := lookupModifier(name)
	typeErr := func(v *sval) error {
		return query.Errorf(at, "modifier |%s does not apply to %s", name, v.kind)
	}
	onKeywords := func(why string) error {
		return &query.Unsupported{Pos: at, Construct: "modifier |" + name + " on keywords", Why: why}
	}
	switch m {
	case mNone:
		if name == "" {
			return query.Errorf(at, "empty modifier, expected one of %s", modifierNames)
		}
		return query.Errorf(at, "unknown modifier %q, expected one of %s", name, modifierNames)
	case mExpand:
		return &query.Unsupported{Pos: at, Construct: "modifier |expand", Why: "its %placeholders% take values from a processing pipeline, which firewarden does not have"}
	case mAll:
		it.all = true
		return nil
	case mNeq:
		it.neq = true
		return nil
	case mCased:
		it.cased = true
		for _, v := range it.vals {
			asString(v)
			if v.kind != vStr && v.kind != vRef {
				if v.kind == vRe {
					return query.Errorf(at, "modifier |cased does not apply to a regular expression, which is case-sensitive already")
				}
				return typeErr(v)
			}
		}
		return nil
	}
	if it.keyword {
		switch m {
		case mRe, mReI, mReM, mReS:
			return onKeywords("a keyword search cannot be a regular expression")
		case mStartswith, mEndswith:
			return onKeywords("keywords match anywhere in a value, so an anchored keyword has no exact meaning")
		case mExists, mFieldref, mCIDR, mLt, mLte, mGt, mGte, mMinute, mHour, mDay, mWeek, mMonth, mYear:
			return query.Errorf(at, "modifier |%s needs a field, expected field|%s: value", name, name)
		}
	}
	for _, v := range it.vals {
		if v.kind == vNull {
			return query.Errorf(at, "modifier |%s on null, expected a value", name)
		}
		if err := c.modifyValue(it, v, m, name, at, typeErr); err != nil {
			return err
		}
		v.valueMods++
		if len(v.alts) > maxVariants {
			return &query.Unsupported{Pos: at, Construct: "modifier |" + name + fmt.Sprintf(" expanding to %d values", len(v.alts)), Why: fmt.Sprintf("more than %d alternatives", maxVariants)}
		}
		if err := c.spend(len(v.alts), v.node); err != nil {
			return err
		}
	}
	return nil
}

func (c *compiler) modifyValue(it *item, v *sval, m modifier, name string, at query.Pos, typeErr func(*sval) error) error {
	first := func() error {
		if v.valueMods > 0 {
			return query.Errorf(at, "modifier |%s must come first, expected it before the other value modifiers", name)
		}
		return nil
	}
	switch m {
	case mContains, mStartswith, mEndswith:
		asString(v)
		switch v.kind {
		case vStr:
			for i, p := range v.alts {
				if m != mEndswith {
					p = p.withTrailingStar()
				}
				if m != mStartswith {
					p = p.withLeadingStar()
				}
				v.alts[i] = p
			}
		case vRe, vRef:
			v.atStart = v.atStart || m != mEndswith
			v.atEnd = v.atEnd || m != mStartswith
			if v.kind == vRe && m == mContains {
				v.atStart, v.atEnd = false, false // a search matches anywhere already
			}
		default:
			return typeErr(v)
		}
	case mWindash:
		asString(v)
		if v.kind != vStr {
			return typeErr(v)
		}
		var out []pattern
		for _, p := range v.alts {
			if n := windashCount(p, maxVariants); n*len(out) > maxVariants || n > maxVariants {
				return &query.Unsupported{Pos: at, Construct: "modifier |windash on a value with this many dashes", Why: fmt.Sprintf("more than %d combinations", maxVariants)}
			}
			out = append(out, windash(p)...)
		}
		v.alts = out
	case mBase64, mBase64Offset:
		asString(v)
		if v.kind != vStr {
			return typeErr(v)
		}
		var out []pattern
		for _, p := range v.alts {
			if p.hasWild() {
				return query.Errorf(at, "modifier |%s on a value with wildcards, expected plain text (escape * and ? as \\* and \\?)", name)
			}
			data := p.text()
			if m == mBase64 {
				out = append(out, literalPattern(base64.StdEncoding.EncodeToString([]byte(data))))
				continue
			}
			for _, s := range base64Offsets(data) {
				if s == "" {
					return &query.Unsupported{Pos: at, Construct: "modifier |base64offset on a value this short", Why: "some offsets leave no base64 characters that depend only on the value"}
				}
				out = append(out, literalPattern(s))
			}
		}
		v.alts = dedupPatterns(out)
	case mUTF16LE, mUTF16BE, mUTF16:
		asString(v)
		if v.kind != vStr {
			return typeErr(v)
		}
		enc := utf16le
		if m == mUTF16BE {
			enc = utf16be
		}
		for i, p := range v.alts {
			p = p.mapLiterals(enc)
			if m == mUTF16 {
				p = append(pattern{{lit: utf16BOM}}, p...).normalize()
			}
			v.alts[i] = p
		}
	case mRe:
		if err := first(); err != nil {
			return err
		}
		if v.kind != vStr && v.kind != vNum {
			return typeErr(v)
		}
		v.kind, v.alts = vRe, nil
		v.text = v.node.Value // the regex as written, without Sigma's escaping
	case mReI, mReM, mReS:
		if v.kind != vRe {
			return query.Errorf(at, "modifier |%s applies to a regular expression, expected it after |re", name)
		}
		f := "i"
		switch m {
		case mReM:
			f = "m"
		case mReS:
			f = "s"
		}
		if !strings.Contains(v.reFlags, f) {
			fl := []byte(v.reFlags + f)
			slices.Sort(fl)
			v.reFlags = string(fl)
		}
	case mCIDR:
		if err := first(); err != nil {
			return err
		}
		if v.kind != vStr {
			return typeErr(v)
		}
		pfx, err := parseCIDR(v.node.Value)
		if err != nil {
			return query.Errorf(c.pos(v.node), "%q is not a CIDR network, expected e.g. 10.0.0.0/8 or fe80::/10", v.node.Value)
		}
		v.kind, v.alts, v.text = vCIDR, nil, pfx
	case mLt, mLte, mGt, mGte:
		if v.kind == vStr && len(v.alts) == 1 && !v.alts[0].hasWild() {
			if f, err := strconv.ParseFloat(strings.TrimSpace(v.alts[0].text()), 64); err == nil {
				v.kind, v.f = vNum, f
				if i, err := strconv.ParseInt(strings.TrimSpace(v.alts[0].text()), 10, 64); err == nil {
					v.isInt, v.i = true, i
				}
			}
		}
		if v.kind != vNum && v.kind != vTime {
			return typeErr(v)
		}
		if v.hasCmp {
			return query.Errorf(at, "second comparison modifier |%s, expected one of lt, lte, gt, gte per field", name)
		}
		v.hasCmp = true
		switch m {
		case mLt:
			v.cmp = query.Lt
		case mLte:
			v.cmp = query.Le
		case mGt:
			v.cmp = query.Gt
		default:
			v.cmp = query.Ge
		}
		if v.kind == vNum {
			v.kind = vCmp
		}
	case mExists:
		if err := first(); err != nil {
			return err
		}
		b, ok := boolValue(v)
		if !ok {
			return query.Errorf(c.pos(v.node), "%q after |exists, expected true or false", v.node.Value)
		}
		v.kind, v.alts, v.exists = vExists, nil, b
	case mFieldref:
		asString(v)
		if v.kind != vStr {
			return typeErr(v)
		}
		if len(v.alts) != 1 || v.alts[0].hasWild() {
			return query.Errorf(at, "modifier |fieldref on a value with wildcards, expected a field name")
		}
		v.kind, v.text, v.alts = vRef, v.alts[0].text(), nil
	case mMinute, mHour, mDay, mWeek, mMonth, mYear:
		if v.kind == vStr && len(v.alts) == 1 {
			if i, err := strconv.ParseInt(strings.TrimSpace(v.alts[0].text()), 10, 64); err == nil {
				v.kind, v.isInt, v.i = vNum, true, i
			}
		}
		if v.kind != vNum || !v.isInt {
			return query.Errorf(at, "modifier |%s on %s, expected a whole number", name, v.kind)
		}
		v.kind, v.timePart = vTime, name
	default:
		return query.Errorf(at, "unknown modifier %q, expected one of %s", name, modifierNames)
	}
	return nil
}

// dedupPatterns drops repeated alternatives.
func dedupPatterns(ps []pattern) []pattern {
	var out []pattern
	seen := map[string]bool{}
	for _, p := range ps {
		k := p.glob()
		if !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	return out
}

// boolValue reads the true/false that |exists takes.
func boolValue(v *sval) (bool, bool) {
	if v.kind != vBool && v.kind != vStr {
		return false, false
	}
	switch strings.ToLower(v.node.Value) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// parseCIDR accepts a network or a single address (a /32 or /128).
func parseCIDR(s string) (string, error) {
	s = strings.TrimSpace(s)
	if pfx, err := netip.ParsePrefix(s); err == nil {
		return pfx.Masked().String(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return "", err
	}
	return netip.PrefixFrom(a, a.BitLen()).String(), nil
}
