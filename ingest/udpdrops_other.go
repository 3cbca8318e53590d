//go:build !linux

package ingest

import "net"

func enableDropCount(*net.UDPConn) bool { return false }

func kernelDrops([]byte) (uint32, bool) { return 0, false }
