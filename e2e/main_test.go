package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/apigw/apigw/internal/apigwproc"
)

// apigwBin is the apigw binary built for this test run; pkiDir holds the
// certificates it made with `apigw certs` (the README's local steps).
var apigwBin, pkiDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "apigw-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if apigwBin, err = apigwproc.Build(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	pkiDir = filepath.Join(dir, "pki")
	if out, err := exec.Command(apigwBin, "certs", "--dir", pkiDir).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "apigw certs: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
