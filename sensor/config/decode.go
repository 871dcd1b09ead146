package config

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Record is one fanotify event as read from the group's file descriptor
// (struct fanotify_event_metadata and its information records).
type Record struct {
	Mask uint64
	FD   int32 // FAN_NOFD (-1) in FID mode
	PID  int32 // the process that caused the event (thread-group id)
	Info []Info
}

// Info is one information record of an event in FID mode: a file handle
// (the object, or its directory) and, for the DFID_NAME kinds, the entry
// name in that directory.
type Info struct {
	Type       uint8 // unix.FAN_EVENT_INFO_TYPE_*
	Fsid       [2]int32
	HandleType int32
	Handle     []byte
	Name       string
}

// Key identifies the object a handle names: filesystem id, handle type
// and bytes (what a directory map is keyed by).
func (i Info) Key() string { return handleKey(i.Fsid, i.HandleType, i.Handle) }

func handleKey(fsid [2]int32, typ int32, h []byte) string {
	b := make([]byte, 12, 12+len(h))
	binary.LittleEndian.PutUint32(b, uint32(fsid[0]))
	binary.LittleEndian.PutUint32(b[4:], uint32(fsid[1]))
	binary.LittleEndian.PutUint32(b[8:], uint32(typ))
	return string(append(b, h...))
}

const (
	metadataLen = 24 // sizeof(struct fanotify_event_metadata)
	metadataVer = 3  // FANOTIFY_METADATA_VERSION
	infoHdrLen  = 4  // struct fanotify_event_info_header
)

// Info record types (linux/fanotify.h).
const (
	infoFID         = 1
	infoDFIDName    = 2
	infoDFID        = 3
	infoOldDFIDName = 10
	infoNewDFIDName = 12
)

// ErrShort is returned for a buffer that ends inside an event.
var ErrShort = errors.New("sensor/config: truncated fanotify event")

// Decode splits a buffer read from a fanotify descriptor into its events.
// Information records of kinds it does not know (pidfd, error, range,
// mount) are skipped; a malformed event ends decoding with an error and
// the events before it.
func Decode(b []byte) ([]Record, error) {
	var out []Record
	for len(b) > 0 {
		if len(b) < metadataLen {
			return out, ErrShort
		}
		evLen := int(binary.NativeEndian.Uint32(b))
		ver := b[4]
		mdLen := int(binary.NativeEndian.Uint16(b[6:]))
		if ver != metadataVer {
			return out, fmt.Errorf("sensor/config: fanotify metadata version %d, expected %d", ver, metadataVer)
		}
		if evLen < metadataLen || evLen > len(b) || mdLen < metadataLen || mdLen > evLen {
			return out, ErrShort
		}
		r := Record{
			Mask: binary.NativeEndian.Uint64(b[8:]),
			FD:   int32(binary.NativeEndian.Uint32(b[16:])),
			PID:  int32(binary.NativeEndian.Uint32(b[20:])),
		}
		infos := b[mdLen:evLen]
		for len(infos) > 0 {
			if len(infos) < infoHdrLen {
				return out, ErrShort
			}
			typ := infos[0]
			n := int(binary.NativeEndian.Uint16(infos[2:]))
			if n < infoHdrLen || n > len(infos) {
				return out, ErrShort
			}
			body := infos[infoHdrLen:n]
			infos = infos[n:]
			switch typ {
			case infoFID, infoDFIDName, infoDFID, infoOldDFIDName, infoNewDFIDName:
			default:
				continue
			}
			// __kernel_fsid_t fsid; struct file_handle { u32 handle_bytes;
			// int handle_type; unsigned char f_handle[]; } [name NUL]
			if len(body) < 16 {
				return out, ErrShort
			}
			in := Info{Type: typ}
			in.Fsid[0] = int32(binary.NativeEndian.Uint32(body))
			in.Fsid[1] = int32(binary.NativeEndian.Uint32(body[4:]))
			hb := int(binary.NativeEndian.Uint32(body[8:]))
			in.HandleType = int32(binary.NativeEndian.Uint32(body[12:]))
			rest := body[16:]
			if hb < 0 || hb > len(rest) {
				return out, ErrShort
			}
			in.Handle = append([]byte(nil), rest[:hb]...)
			rest = rest[hb:]
			if typ == infoDFIDName || typ == infoOldDFIDName || typ == infoNewDFIDName {
				end := 0
				for end < len(rest) && rest[end] != 0 {
					end++
				}
				in.Name = string(rest[:end])
			}
			r.Info = append(r.Info, in)
		}
		out = append(out, r)
		b = b[evLen:]
	}
	return out, nil
}

// info returns the record's first information record of type typ.
func (r *Record) info(typ uint8) (Info, bool) {
	for _, i := range r.Info {
		if i.Type == typ {
			return i, true
		}
	}
	return Info{}, false
}
