package nlsock

import "encoding/binary"

// ne is the host's byte order, which netlink headers use.
var ne = binary.NativeEndian
