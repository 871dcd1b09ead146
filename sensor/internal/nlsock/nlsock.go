// Package nlsock is the netlink socket the live sensors share: opened in a
// given network namespace, non-blocking behind Go's poller (so Close wakes a
// pending Recv), with a large receive buffer forced where the caller may.
package nlsock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Conn is one netlink socket.
type Conn struct {
	f   *os.File
	rc  syscall.RawConn
	fd  int
	seq uint32
	mu  sync.Mutex
	buf []byte
}

// Open opens a netlink socket of protocol proto joined to the multicast
// groups (group numbers, not masks). netns, when non-nil, is an open
// /proc/…/ns/net or /run/netns/… file: the socket is created inside that
// namespace and stays bound to it.
func Open(proto int, groups []uint32, netns *os.File) (*Conn, error) {
	var fd int
	var err error
	if netns == nil {
		fd, err = unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
	} else {
		fd, err = socketIn(netns, proto)
	}
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("bind", err)
	}
	for _, g := range groups {
		if err := unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_ADD_MEMBERSHIP, int(g)); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("join netlink group %d: %w", g, err)
		}
	}
	f := os.NewFile(uintptr(fd), "netlink")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &Conn{f: f, rc: rc, fd: fd, buf: make([]byte, 1<<20)}, nil
}

// socketIn creates the socket inside the namespace netns, on a thread that
// enters it and comes back.
func socketIn(netns *os.File, proto int) (int, error) {
	runtime.LockOSThread()
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return -1, err
	}
	defer self.Close()
	if err := unix.Setns(int(netns.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return -1, fmt.Errorf("setns %s: %w", netns.Name(), err)
	}
	fd, serr := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
	if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
		// The thread stays locked and dies with its goroutine: it is in
		// the wrong namespace.
		if serr == nil {
			unix.Close(fd)
		}
		return -1, fmt.Errorf("setns back: %w", err)
	}
	runtime.UnlockOSThread()
	return fd, serr
}

// SetReadBuffer sets the receive buffer: SO_RCVBUFFORCE (CAP_NET_ADMIN),
// falling back to SO_RCVBUF (capped by net.core.rmem_max). It returns the
// size the kernel reports.
func (c *Conn) SetReadBuffer(n int) (int, error) {
	if err := unix.SetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, n); err != nil {
		if err := unix.SetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_RCVBUF, n); err != nil {
			return 0, err
		}
	}
	return unix.GetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_RCVBUF)
}

// ErrOverrun is returned by Recv when the kernel dropped messages because
// the receive buffer was full (ENOBUFS): the reader must resynchronise.
var ErrOverrun = errors.New("netlink receive buffer overrun (ENOBUFS): messages were lost")

// Recv reads one datagram and returns it (valid until the next Recv).
// It blocks until data arrives, ctx ends (its deadline is honoured by
// polling every 250ms at most) or the socket is closed. Datagrams not from
// the kernel (port id 0) are skipped.
func (c *Conn) Recv(ctx context.Context) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		_ = c.f.SetReadDeadline(time.Now().Add(250 * time.Millisecond))
		var n int
		var from unix.Sockaddr
		var rerr error
		err := c.rc.Read(func(fd uintptr) bool {
			n, from, rerr = unix.Recvfrom(int(fd), c.buf, 0)
			return rerr != unix.EAGAIN
		})
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue
			}
			return nil, err
		}
		if rerr == unix.ENOBUFS {
			return nil, ErrOverrun
		}
		if rerr != nil {
			return nil, os.NewSyscallError("recvfrom", rerr)
		}
		if sa, ok := from.(*unix.SockaddrNetlink); ok && sa.Pid != 0 {
			continue
		}
		if n == len(c.buf) {
			c.buf = make([]byte, 2*len(c.buf))
			continue // truncated: the kernel drops the rest; the caller sees nothing
		}
		return c.buf[:n], nil
	}
}

// Send sends one netlink message of type typ with flags and payload; it
// returns the sequence number used.
func (c *Conn) Send(typ, flags uint16, payload []byte) (uint32, error) {
	c.seq++
	b := make([]byte, unix.NLMSG_HDRLEN+len(payload))
	ne.PutUint32(b[0:4], uint32(len(b)))
	ne.PutUint16(b[4:6], typ)
	ne.PutUint16(b[6:8], flags)
	ne.PutUint32(b[8:12], c.seq)
	copy(b[unix.NLMSG_HDRLEN:], payload)
	var serr error
	err := c.rc.Write(func(fd uintptr) bool {
		serr = unix.Sendto(int(fd), b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
		return serr != unix.EAGAIN
	})
	if err != nil {
		return 0, err
	}
	return c.seq, serr
}

// Close closes the socket, waking a pending Recv.
func (c *Conn) Close() error { return c.f.Close() }

// Message is one netlink message of a datagram.
type Message struct {
	Type  uint16
	Flags uint16
	Seq   uint32
	Pid   uint32
	Data  []byte
}

// Split splits a datagram into its messages. A truncated or malformed
// message ends the split with an error; the messages before it are kept.
func Split(b []byte) ([]Message, error) {
	var out []Message
	for len(b) > 0 {
		if len(b) < unix.NLMSG_HDRLEN {
			return out, fmt.Errorf("netlink: %d trailing bytes, expected a %d-byte header", len(b), unix.NLMSG_HDRLEN)
		}
		l := int(ne.Uint32(b[0:4]))
		if l < unix.NLMSG_HDRLEN || l > len(b) {
			return out, fmt.Errorf("netlink: message length %d, expected %d..%d", l, unix.NLMSG_HDRLEN, len(b))
		}
		out = append(out, Message{
			Type:  ne.Uint16(b[4:6]),
			Flags: ne.Uint16(b[6:8]),
			Seq:   ne.Uint32(b[8:12]),
			Pid:   ne.Uint32(b[12:16]),
			Data:  b[unix.NLMSG_HDRLEN:l],
		})
		al := (l + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1)
		if al > len(b) {
			al = len(b)
		}
		b = b[al:]
	}
	return out, nil
}

// Errno decodes an NLMSG_ERROR payload: 0 is an acknowledgement.
func Errno(data []byte) error {
	if len(data) < 4 {
		return errors.New("netlink: short error message")
	}
	code := int32(ne.Uint32(data[:4]))
	if code == 0 {
		return nil
	}
	return syscall.Errno(-code)
}
