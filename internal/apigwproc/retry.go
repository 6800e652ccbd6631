package apigwproc

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// busyAttempts is how many times StartReady launches apigw when its
// addresses were taken.
const busyAttempts = 3

// StartReady starts p.Bin with the arguments args returns and waits for
// /readyz as WaitReady does. FreeAddr can only pick addresses that are free
// when it asks: when apigw exits because one was taken meanwhile (another
// test bound it), StartReady calls args again, which picks new addresses,
// and starts again, up to three launches.
func (p *Proc) StartReady(t testing.TB, within time.Duration, args func() []string) time.Duration {
	t.Helper()
	for attempt := 1; ; attempt++ {
		from := len(p.Out.String())
		p.Start(t, args()...)
		if d, ok := p.waitReadyOrBusy(t, within, from); ok {
			return d
		}
		if attempt == busyAttempts {
			t.Fatalf("apigw found an address in use %d times\n%s", attempt, p.Out.String())
		}
		t.Logf("apigw could not bind an address (launch %d), starting again on new ones: %s", attempt, strings.TrimSpace(p.Out.String()[from:]))
		p.cmd = nil // it exited: nothing to stop
	}
}

// waitReadyOrBusy is WaitReady, except that an exit caused by an address
// in use (in the output from offset from) returns false instead of
// failing the test.
func (p *Proc) waitReadyOrBusy(t testing.TB, within time.Duration, from int) (time.Duration, bool) {
	t.Helper()
	start := time.Now()
	// The address may be another process's, which need not answer.
	client := &http.Client{Timeout: 2 * time.Second}
	for time.Since(start) < within {
		if resp, err := client.Get("http://" + p.Ops + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start), true
			}
		}
		if p.Exited() {
			if strings.Contains(p.Out.String()[from:], "address already in use") {
				return 0, false
			}
			t.Fatalf("apigw exited (%v) before /readyz answered 200\n%s", p.err, p.Out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("/readyz not 200 within %v\n%s", within, p.Out.String())
	return 0, false
}
