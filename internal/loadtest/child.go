package loadtest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
)

// roleEnv names the role of a child process; it is unset in the parent.
const roleEnv = "APIGW_LOADTEST_ROLE"

const addrPrefix = "loadtest-listening "

// ProfileEnv, suffixed with a role in upper case ("-" as "_"), names a
// file the child of that role writes its CPU profile to:
// APIGW_LOADTEST_CPUPROFILE_RLS_REDIS=/tmp/redis.pprof ("%d" in the
// name is replaced by the child's process id).
const ProfileEnv = "APIGW_LOADTEST_CPUPROFILE"

// ChildRole returns the role this process was started for by StartChild,
// or "" in a normal test run.
func ChildRole() string { return os.Getenv(roleEnv) }

// Proc is a server process.
type Proc struct {
	Name string
	Addr string
	PID  int
}

// StartChild re-executes the test binary with role (and env, "K=V") and
// returns once the child listens. The child stops when the test ends (its
// stdin closes).
func StartChild(tb testing.TB, role string, env ...string) *Proc {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLoadtestChild$", "-test.bench=^$", "-test.count=1", "-test.timeout=0")
	cmd.Env = append(append(os.Environ(), roleEnv+"="+role), env...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("starting %s: %v", role, err)
	}
	tb.Cleanup(func() {
		_ = stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), addrPrefix); ok {
				addr <- a
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case a := <-addr:
		return &Proc{Name: role, Addr: a, PID: cmd.Process.Pid}
	case <-time.After(30 * time.Second):
		tb.Fatalf("%s did not start listening", role)
		return nil
	}
}

// Child is the body of a package's TestLoadtestChild: in a child started
// by StartChild it serves the server build returns for the child's role
// until the parent goes away; in a normal test run it skips.
func Child(t *testing.T, build func(t *testing.T, role string) *grpc.Server) {
	role := ChildRole()
	if role == "" {
		t.Skip("a server process of the load benchmarks (loadtest.StartChild)")
	}
	if err := serveChild(build(t, role)); err != nil {
		t.Fatal(err)
	}
}

// serveChild serves g on a free loopback port, tells the parent where,
// and returns when the parent closes the child's stdin.
func serveChild(g *grpc.Server) error {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	if path := os.Getenv(ProfileEnv + "_" + strings.ToUpper(strings.NewReplacer("-", "_").Replace(os.Getenv(roleEnv)))); path != "" {
		f, err := os.Create(strings.ReplaceAll(path, "%d", strconv.Itoa(os.Getpid())))
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	go func() { _ = g.Serve(lis) }()
	fmt.Printf("%s%s\n", addrPrefix, lis.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	g.Stop()
	return nil
}

// External describes a server started outside the benchmark (the
// reference RLS). Its process is found by its listening socket, so that
// its CPU time can be read; PID stays 0 when it cannot be found.
func External(name, addr string) *Proc {
	p := &Proc{Name: name, Addr: addr}
	if pid, err := ListenerPID(addr); err == nil {
		p.PID = pid
	}
	return p
}
