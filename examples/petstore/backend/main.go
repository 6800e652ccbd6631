// Command backend is the pet store sample's backend: it answers on several
// addresses at once (the RELEASE and TEST backends, the two members of the
// load-balance channel and the canary), echoes every request it receives as
// JSON so that you can see what apigw and Envoy sent, and serves the custom
// authorizer at /authorize.
//
//	go run ./examples/petstore/backend
//	go run ./examples/petstore/backend -listen release=:9090,test=:9091
//
// Tokens the authorizer accepts: "Bearer demo-token-alice" (user alice) and
// "Bearer demo-token-bob" (user bob); anything else is denied.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
)

const defaultListen = "release=127.0.0.1:9090,test=127.0.0.1:9091,pool-a=127.0.0.1:9092,pool-b=127.0.0.1:9093,canary=127.0.0.1:9094"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "backend:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("backend", flag.ContinueOnError)
	listen := fs.String("listen", envOr("PETSTORE_LISTEN", defaultListen), "Comma-separated name=address pairs to serve (env PETSTORE_LISTEN).")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	g, gctx := errgroup.WithContext(ctx)
	for _, pair := range strings.Split(*listen, ",") {
		name, addr, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || name == "" || addr == "" {
			return fmt.Errorf("-listen: %q is not name=address", pair)
		}
		lis, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: Handler(name, log), ReadHeaderTimeout: 10 * time.Second}
		log.Info("listening", "backend", name, "addr", lis.Addr().String())
		g.Go(func() error {
			if err := srv.Serve(lis); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
		g.Go(func() error {
			<-gctx.Done()
			sctx, cancel := context.WithTimeout(context.WithoutCancel(gctx), 5*time.Second)
			defer cancel()
			return srv.Shutdown(sctx)
		})
	}
	return g.Wait()
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
