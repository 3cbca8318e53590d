package ingest

import (
	"net"
	"testing"
	"time"
)

// Datagrams the kernel drops while nobody reads are reported with the next
// datagram read.
func TestKernelDropCount(t *testing.T) {
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if err := pc.SetReadBuffer(4096); err != nil {
		t.Fatal(err)
	}
	if !enableDropCount(pc) {
		t.Fatal("SO_RXQ_OVFL not available")
	}
	out, err := net.DialUDP("udp", nil, pc.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	msg := make([]byte, 1000)
	for i := 0; i < 500; i++ {
		_, _ = out.Write(msg)
	}
	// The count rides on datagrams queued after the drops: drain the queue,
	// then send one more.
	buf, oob := make([]byte, 2000), make([]byte, 64)
	_ = pc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	for {
		if _, _, _, _, err := pc.ReadMsgUDPAddrPort(buf, oob); err != nil {
			break
		}
	}
	_ = pc.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _ = out.Write(msg)
	_, oobn, _, _, err := pc.ReadMsgUDPAddrPort(buf, oob)
	if err != nil {
		t.Fatal(err)
	}
	drops, ok := kernelDrops(oob[:oobn])
	if !ok || drops == 0 {
		t.Errorf("drops %d (reported %v) after overrunning a 4 KiB buffer", drops, ok)
	}
}
