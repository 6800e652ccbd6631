package apigwproc

import (
	"fmt"
	"os/exec"
	"path/filepath"
)

// Build builds cmd/apigw into dir and returns the binary's path. It runs
// `go build` by import path, so it works from any directory of the module.
func Build(dir string) (string, error) {
	bin := filepath.Join(dir, "apigw")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/apigw/apigw/cmd/apigw").CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build cmd/apigw: %v\n%s", err, out)
	}
	return bin, nil
}
