// Package caps tells the sensors which Linux capabilities the process
// holds, so each can name what it lacks instead of failing obscurely.
package caps

import "golang.org/x/sys/unix"

// Capability numbers (linux/capability.h).
const (
	NetAdmin     = 12
	SysAdmin     = 21
	AuditControl = 30
	AuditRead    = 37
	Perfmon      = 38
	BPF          = 39
)

// Effective is the process's effective capability set, a bit per
// capability.
func Effective() (uint64, error) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return 0, err
	}
	return uint64(data[0].Effective) | uint64(data[1].Effective)<<32, nil
}

// Has reports whether capability c is in the effective set (false when
// the set cannot be read).
func Has(c uint) bool {
	eff, err := Effective()
	return err == nil && eff&(1<<c) != 0
}
