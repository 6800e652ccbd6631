// Command apigctl manages apigw gateways through the admin API: declarative
// YAML, OpenAPI import and export with Huawei APIG x-apigateway-*
// extensions, publishing, bindings, status and signed calls. Run
// `apigctl --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/apigw/apigw/cmd/apigctl/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}, os.Getenv)
	stop()
	os.Exit(code)
}
