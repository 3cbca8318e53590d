package bench

import (
	"fmt"
	"time"

	"github.com/prometheus/procfs"
)

// usage is what the kernel accounts to a process so far: CPU time (user
// and system, all threads; clock-tick resolution, 10 ms here) from
// /proc/PID/stat and the peak resident set size (VmHWM) from
// /proc/PID/status.
type usage struct {
	cpu     time.Duration
	peakRSS uint64 // bytes
}

func readUsage(pid int) (usage, error) {
	p, err := procfs.NewProc(pid)
	if err != nil {
		return usage{}, fmt.Errorf("bench: process %d: %w", pid, err)
	}
	st, err := p.Stat()
	if err != nil {
		return usage{}, fmt.Errorf("bench: process %d: %w", pid, err)
	}
	status, err := p.NewStatus()
	if err != nil {
		return usage{}, fmt.Errorf("bench: process %d: %w", pid, err)
	}
	return usage{cpu: time.Duration(st.CPUTime() * float64(time.Second)), peakRSS: status.VmHWM}, nil
}
