// Command apigw runs the apigw gateway control plane: the etcd-backed
// definition store (embedded by default), the admin API, the xDS server,
// the ext_authz and rate-limit services and the ops endpoints. `apigw
// certs` creates certificates for a local deployment.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/apigw/apigw/cmd/apigw/server"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "certs" {
		os.Exit(certs(os.Args[2:], os.Stdout, os.Stderr))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := server.ParseConfig(os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "apigw:", err)
		os.Exit(2)
	}
	if err := server.Run(ctx, cfg, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "apigw:", err)
		os.Exit(1)
	}
}
