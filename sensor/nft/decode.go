package nft

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// nftables message types (NFT_MSG_*), within NFNL_SUBSYS_NFTABLES.
const (
	msgNewTable    = 0
	msgGetTable    = 1
	msgDelTable    = 2
	msgNewChain    = 3
	msgGetChain    = 4
	msgDelChain    = 5
	msgNewRule     = 6
	msgGetRule     = 7
	msgDelRule     = 8
	msgNewSet      = 9
	msgGetSet      = 10
	msgDelSet      = 11
	msgNewSetElem  = 12
	msgDelSetElem  = 14
	msgNewGen      = 15
	msgGetGen      = 16
	msgNewObj      = 18
	msgDelObj      = 20
	msgNewFlowtab  = 22
	msgDelFlowtab  = 24
	subsysNftables = 10 // NFNL_SUBSYS_NFTABLES
)

// Msg is one decoded nftables netlink message: a table, chain, rule, set,
// set-element list, object or flowtable added or deleted, or a new
// generation (the end of a committed batch).
type Msg struct {
	Type   uint8 // NFT_MSG_*
	Family uint8 // NFPROTO_*
	Table  string
	Chain  string // a rule's chain
	Name   string // the table's, chain's, set's, object's or flowtable's own name
	Handle uint64

	// chains
	Hook      bool
	HookNum   uint32
	Priority  int32
	Device    string
	HasPolicy bool
	Policy    uint32 // NF_DROP 0, NF_ACCEPT 1
	ChainType string
	Flags     uint32 // table, chain or set flags

	// rules
	Expr     string // the rule's expressions, rendered (see render)
	Position uint64
	Comment  string

	// set elements
	Elements int

	// NEWGEN
	GenID uint32
	PID   uint32
	Comm  string
}

// IsDel reports whether the message deletes something.
func (m *Msg) IsDel() bool {
	switch m.Type {
	case msgDelTable, msgDelChain, msgDelRule, msgDelSet, msgDelSetElem, msgDelObj, msgDelFlowtab:
		return true
	}
	return false
}

var be = binary.BigEndian

// attr is one netlink attribute.
type attr struct {
	typ  uint16 // without the nested and byte-order flags
	data []byte
}

// attrs splits a run of netlink attributes.
func attrs(b []byte) ([]attr, error) {
	var out []attr
	for len(b) > 0 {
		if len(b) < 4 {
			return out, fmt.Errorf("%d trailing bytes, expected a 4-byte attribute header", len(b))
		}
		l := int(binary.NativeEndian.Uint16(b[0:2]))
		t := binary.NativeEndian.Uint16(b[2:4]) &^ 0xc000
		if l < 4 || l > len(b) {
			return out, fmt.Errorf("attribute %d: length %d, expected 4..%d", t, l, len(b))
		}
		out = append(out, attr{typ: t, data: b[4:l]})
		al := (l + 3) &^ 3
		if al > len(b) {
			al = len(b)
		}
		b = b[al:]
	}
	return out, nil
}

func cstr(b []byte) string {
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

func u32(b []byte) (uint32, error) {
	if len(b) < 4 {
		return 0, fmt.Errorf("%d-byte value, expected 4", len(b))
	}
	return be.Uint32(b), nil
}

func u64(b []byte) (uint64, error) {
	if len(b) < 8 {
		return 0, fmt.Errorf("%d-byte value, expected 8", len(b))
	}
	return be.Uint64(b), nil
}

// errNotNftables is returned for messages of other netfilter subsystems.
var errNotNftables = errors.New("not an nftables message")

// Decode decodes one nftables message: typ is the netlink message type,
// data the payload after the netlink header (nfgenmsg + attributes).
func Decode(typ uint16, data []byte) (Msg, error) {
	var m Msg
	if typ>>8 != subsysNftables {
		return m, errNotNftables
	}
	m.Type = uint8(typ)
	if len(data) < 4 {
		return m, fmt.Errorf("nft message %d: %d bytes, expected a 4-byte nfgenmsg", m.Type, len(data))
	}
	m.Family = data[0]
	as, err := attrs(data[4:])
	if err != nil {
		return m, fmt.Errorf("nft message %d: %w", m.Type, err)
	}
	var perr error
	check := func(err error) {
		if err != nil && perr == nil {
			perr = err
		}
	}
	for _, a := range as {
		switch m.Type {
		case msgNewTable, msgDelTable:
			switch a.typ {
			case 1:
				m.Name = cstr(a.data)
			case 2:
				m.Flags, err = u32(a.data)
				check(err)
			case 4:
				m.Handle, err = u64(a.data)
				check(err)
			}
		case msgNewChain, msgDelChain:
			switch a.typ {
			case 1:
				m.Table = cstr(a.data)
			case 2:
				m.Handle, err = u64(a.data)
				check(err)
			case 3:
				m.Name = cstr(a.data)
			case 4:
				check(m.decodeHook(a.data))
			case 5:
				m.HasPolicy = true
				m.Policy, err = u32(a.data)
				check(err)
			case 7:
				m.ChainType = cstr(a.data)
			case 10:
				m.Flags, err = u32(a.data)
				check(err)
			}
		case msgNewRule, msgDelRule:
			switch a.typ {
			case 1:
				m.Table = cstr(a.data)
			case 2:
				m.Chain = cstr(a.data)
			case 3:
				m.Handle, err = u64(a.data)
				check(err)
			case 4:
				m.Expr, err = renderExprs(a.data)
				check(err)
			case 6:
				m.Position, err = u64(a.data)
				check(err)
			case 7:
				m.Comment = udataComment(a.data)
			}
		case msgNewSet, msgDelSet:
			switch a.typ {
			case 1:
				m.Table = cstr(a.data)
			case 2:
				m.Name = cstr(a.data)
			case 3:
				m.Flags, err = u32(a.data)
				check(err)
			case 16:
				m.Handle, err = u64(a.data)
				check(err)
			}
		case msgNewSetElem, msgDelSetElem:
			switch a.typ {
			case 1:
				m.Table = cstr(a.data)
			case 2:
				m.Name = cstr(a.data)
			case 3:
				es, err := attrs(a.data)
				check(err)
				m.Elements = len(es)
			}
		case msgNewObj, msgDelObj, msgNewFlowtab, msgDelFlowtab:
			// NFTA_OBJ_TABLE/NFTA_FLOWTABLE_TABLE 1, NAME 2.
			switch a.typ {
			case 1:
				m.Table = cstr(a.data)
			case 2:
				m.Name = cstr(a.data)
			}
		case msgNewGen:
			switch a.typ {
			case 1:
				m.GenID, err = u32(a.data)
				check(err)
			case 2:
				m.PID, err = u32(a.data)
				check(err)
			case 3:
				m.Comm = cstr(a.data)
			}
		}
	}
	if perr != nil {
		return m, fmt.Errorf("nft message %d: %w", m.Type, perr)
	}
	return m, nil
}

func (m *Msg) decodeHook(b []byte) error {
	as, err := attrs(b)
	if err != nil {
		return err
	}
	m.Hook = true
	for _, a := range as {
		switch a.typ {
		case 1:
			if m.HookNum, err = u32(a.data); err != nil {
				return err
			}
		case 2:
			p, err := u32(a.data)
			if err != nil {
				return err
			}
			m.Priority = int32(p)
		case 3:
			m.Device = cstr(a.data)
		}
	}
	return nil
}

// udataComment extracts a rule comment from NFTA_RULE_USERDATA (TLVs of
// one-byte type and length; type 0 is the comment).
func udataComment(b []byte) string {
	for len(b) >= 2 {
		t, l := b[0], int(b[1])
		if 2+l > len(b) {
			return ""
		}
		if t == 0 {
			return cstr(b[2 : 2+l])
		}
		b = b[2+l:]
	}
	return ""
}

// Family names (NFPROTO_*), as nft spells them.
func familyName(f uint8) string {
	switch f {
	case 0:
		return "unspec"
	case 1:
		return "inet"
	case 2:
		return "ip"
	case 3:
		return "arp"
	case 5:
		return "netdev"
	case 7:
		return "bridge"
	case 10:
		return "ip6"
	}
	return "family" + strconv.Itoa(int(f))
}

func hookName(family uint8, n uint32) string {
	if family == 5 { // netdev
		switch n {
		case 0:
			return "ingress"
		case 1:
			return "egress"
		}
	}
	if family == 3 { // arp
		switch n {
		case 0:
			return "input"
		case 1:
			return "output"
		}
	}
	switch n {
	case 0:
		return "prerouting"
	case 1:
		return "input"
	case 2:
		return "forward"
	case 3:
		return "output"
	case 4:
		return "postrouting"
	case 5:
		return "ingress"
	}
	return "hook" + strconv.Itoa(int(n))
}

func policyName(p uint32) string {
	switch p {
	case 0:
		return "drop"
	case 1:
		return "accept"
	}
	return "policy" + strconv.Itoa(int(p))
}

func hexs(b []byte) string { return "0x" + hex.EncodeToString(b) }
