package selftest

import (
	"encoding/binary"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// The "Go netlink library" technique re-executes a copy of this binary
// with FWSELF_NETLINK=flush: it then flushes the ruleset of its network
// namespace over raw nfnetlink, as malware linking a netlink library
// would, and exits. selftest runs it only inside its own namespace.
func init() {
	if os.Getenv("FWSELF_NETLINK") != "flush" {
		return
	}
	if err := netlinkFlush(); err != nil {
		fmt.Fprintln(os.Stderr, "netlink flush:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// netlinkFlush sends one batch: BEGIN, NFT_MSG_DELTABLE with no table and
// family unspecified (every table goes), END; and reads the ack.
func netlinkFlush() error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_NETFILTER)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	msg := func(typ, flags uint16, seq uint32, resID uint16) []byte {
		b := make([]byte, unix.NLMSG_HDRLEN+4)
		binary.NativeEndian.PutUint32(b[0:], uint32(len(b)))
		binary.NativeEndian.PutUint16(b[4:], typ)
		binary.NativeEndian.PutUint16(b[6:], flags)
		binary.NativeEndian.PutUint32(b[8:], seq)
		b[16] = unix.AF_UNSPEC
		b[17] = unix.NFNETLINK_V0
		binary.BigEndian.PutUint16(b[18:], resID)
		return b
	}
	var batch []byte
	batch = append(batch, msg(unix.NFNL_MSG_BATCH_BEGIN, unix.NLM_F_REQUEST, 1, unix.NFNL_SUBSYS_NFTABLES)...)
	batch = append(batch, msg(unix.NFNL_SUBSYS_NFTABLES<<8|unix.NFT_MSG_DELTABLE, unix.NLM_F_REQUEST|unix.NLM_F_ACK, 2, 0)...)
	batch = append(batch, msg(unix.NFNL_MSG_BATCH_END, unix.NLM_F_REQUEST, 3, unix.NFNL_SUBSYS_NFTABLES)...)
	if err := unix.Sendto(fd, batch, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	buf := make([]byte, 8192)
	n, _, err := unix.Recvfrom(fd, buf, 0)
	if err != nil {
		return err
	}
	if n >= unix.NLMSG_HDRLEN+4 && binary.NativeEndian.Uint16(buf[4:]) == unix.NLMSG_ERROR {
		if code := int32(binary.NativeEndian.Uint32(buf[16:])); code != 0 {
			return unix.Errno(-code)
		}
	}
	return nil
}
