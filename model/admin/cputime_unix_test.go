//go:build unix

package admin

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time the process has used (user and system, garbage
// collection included): unlike wall time, other work on the machine does
// not inflate it.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
