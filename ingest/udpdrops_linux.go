package ingest

import (
	"encoding/binary"
	"net"

	"golang.org/x/sys/unix"
)

// enableDropCount asks the kernel to report, with every datagram, how many
// it has dropped on this socket so far (SO_RXQ_OVFL): losses before otsiem
// ever saw them, which are counted too.
func enableDropCount(uc *net.UDPConn) bool {
	rc, err := uc.SyscallConn()
	if err != nil {
		return false
	}
	ok := false
	_ = rc.Control(func(fd uintptr) {
		ok = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RXQ_OVFL, 1) == nil
	})
	return ok
}

// kernelDrops reads the cumulative drop count from a datagram's control
// messages.
func kernelDrops(oob []byte) (uint32, bool) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return 0, false
	}
	for _, m := range msgs {
		if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SO_RXQ_OVFL && len(m.Data) >= 4 {
			return binary.NativeEndian.Uint32(m.Data), true
		}
	}
	return 0, false
}
