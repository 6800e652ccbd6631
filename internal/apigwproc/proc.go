package apigwproc

import (
	"bufio"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/apigw/apigw/internal/testutil"
)

// stopTimeout is how long Stop waits after SIGTERM before it kills.
const stopTimeout = 20 * time.Second

// Proc is an apigw binary run as a child process.
type Proc struct {
	Bin string
	Addrs
	Args []string        // of the last Start
	Out  testutil.Buffer // stdout and stderr of every launch

	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, set before done is closed
}

// Start starts p.Bin with args; a test cleanup stops it (see Stop).
func (p *Proc) Start(t testing.TB, args ...string) {
	t.Helper()
	p.Args = args
	cmd := exec.Command(p.Bin, args...)
	cmd.Stdout, cmd.Stderr = &p.Out, &p.Out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	p.cmd, p.done = cmd, done
	go func() {
		p.err = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() { p.Stop(t) })
}

// WaitReady waits until /readyz on p.Ops answers 200 and returns how long
// that took; it fails the test when the process exits first or the wait
// exceeds within.
func (p *Proc) WaitReady(t testing.TB, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < within {
		if resp, err := http.Get("http://" + p.Ops + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start)
			}
		}
		if p.Exited() {
			t.Fatalf("apigw exited (%v) before /readyz answered 200\n%s", p.err, p.Out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("/readyz not 200 within %v\n%s", within, p.Out.String())
	return 0
}

// Exited reports whether the process of the last Start has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Pid is the process id of the last Start.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Stop sends SIGTERM and waits for the process to exit, killing it after
// stopTimeout. An exit other than 0 (also one before Stop) and a kill fail
// the test, which then logs the tail of the output. Stopping a stopped
// process does nothing.
func (p *Proc) Stop(t testing.TB) {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if p.err != nil {
			t.Errorf("apigw exited with %v after SIGTERM", p.err)
		}
	case <-time.After(stopTimeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Errorf("apigw did not stop within %v of SIGTERM", stopTimeout)
	}
	p.cmd = nil
	if t.Failed() {
		t.Logf("apigw output (last 8 KiB):\n%s", p.Out.Tail(8<<10))
	}
}

// Restart stops the process and starts it again with the same arguments
// (the same data), then waits for /readyz as WaitReady does.
func (p *Proc) Restart(t testing.TB, within time.Duration) {
	t.Helper()
	p.Stop(t)
	p.Start(t, p.Args...)
	p.WaitReady(t, within)
}

// DialAdmin connects to the admin API in plaintext (loopback); the
// connection closes at test cleanup.
func (p *Proc) DialAdmin(t testing.TB) *grpc.ClientConn {
	t.Helper()
	return testutil.DialGRPC(t, p.Admin)
}

// Metrics scrapes /metrics on p.Ops: every sample by its full name with
// labels (`name{label="v"}`, or the bare name when it has none).
func (p *Proc) Metrics(t testing.TB) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + p.Ops + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		out[line[:i]] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
