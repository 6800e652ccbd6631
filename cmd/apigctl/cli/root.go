// Package cli implements the apigctl commands: a kubectl-like client of the
// apigw admin API (declarative apply, get, describe, delete, publishing,
// bindings, apps, status), OpenAPI import and export, and signed calls.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
)

// Streams are the standard streams of a command run.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// DefaultServer is the admin API address used without --server or
// APIGW_SERVER.
const DefaultServer = "127.0.0.1:18003"

// globals are the flags every command shares.
type globals struct {
	streams  Streams
	getenv   func(string) string
	server   string
	instance string
	token    string
	tls      bool
	caFile   string
	insecure bool
	timeout  time.Duration

	conn *grpc.ClientConn

	// certFile and keyFile are the client certificate the admin API may
	// require (--admin-client-ca-file).
	certFile, keyFile string
}

// client connects to the admin API (once per run).
func (g *globals) client() (adminv1.AdminServiceClient, error) {
	if g.conn == nil {
		conn, err := dial(g)
		if err != nil {
			return nil, &exitError{code: ExitUnavailable, err: err}
		}
		g.conn = conn
	}
	return adminv1.NewAdminServiceClient(g.conn), nil
}

func (g *globals) close() {
	if g.conn != nil {
		_ = g.conn.Close()
		g.conn = nil
	}
}

// ctx bounds one command by --timeout.
func (g *globals) ctx(parent context.Context) (context.Context, context.CancelFunc) {
	if g.timeout <= 0 {
		return context.WithCancel(parent)
	}
	return context.WithTimeout(parent, g.timeout)
}

// NewRoot builds the apigctl command tree. getenv supplies environment
// variables (os.Getenv in main).
func NewRoot(s Streams, getenv func(string) string) *cobra.Command {
	g := &globals{streams: s, getenv: getenv}
	root := &cobra.Command{
		Use:   "apigctl",
		Short: "Manage apigw API gateways: definitions, publishing, OpenAPI import/export, signed calls",
		Long: `apigctl manages the definitions of apigw gateways through the admin API.

Keep definitions in Git as YAML documents (kind: api, kind: throttle, ...) or
as OpenAPI files with Huawei APIG x-apigateway-* extensions; see what would
change with --dry-run, apply atomically, publish to environments, roll back,
see which Envoys run what, and call APIs with an APP signature.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return g.defaults(cmd)
		},
	}
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	pf := root.PersistentFlags()
	pf.StringVarP(&g.server, "server", "s", "", "Admin API address host:port (env APIGW_SERVER, default "+DefaultServer+").")
	pf.StringVar(&g.instance, "instance", "", "Gateway instance (env APIGW_INSTANCE, default \"default\").")
	pf.StringVar(&g.token, "token", "", "Admin API bearer token (env APIGW_ADMIN_TOKEN).")
	pf.BoolVar(&g.tls, "tls", false, "Connect to the admin API over TLS.")
	pf.StringVar(&g.caFile, "certificate-authority", "", "PEM CA bundle to verify the admin API's certificate (implies --tls).")
	pf.BoolVar(&g.insecure, "insecure-skip-tls-verify", false, "Do not verify the admin API's certificate (implies --tls).")
	pf.StringVar(&g.certFile, "client-certificate", "", "PEM client certificate for an admin API that requires one (implies --tls).")
	pf.StringVar(&g.keyFile, "client-key", "", "PEM key of --client-certificate.")
	pf.DurationVar(&g.timeout, "request-timeout", 30*time.Second, "Time limit of a command's admin API calls (0 = none).")

	root.AddGroup(&cobra.Group{ID: "basic", Title: "Definitions:"},
		&cobra.Group{ID: "deploy", Title: "Publishing and bindings:"},
		&cobra.Group{ID: "openapi", Title: "OpenAPI:"},
		&cobra.Group{ID: "calls", Title: "Calling APIs:"},
		&cobra.Group{ID: "other", Title: "Other:"})
	add := func(group string, cmds ...*cobra.Command) {
		for _, c := range cmds {
			c.GroupID = group
			root.AddCommand(c)
		}
	}
	add("basic", newApplyCmd(g), newGetCmd(g), newDescribeCmd(g), newDeleteCmd(g), newAppCmd(g))
	add("deploy", newPublishCmd(g), newUnpublishCmd(g), newRollbackCmd(g), newHistoryCmd(g), newBindCmd(g, true), newBindCmd(g, false))
	add("openapi", newImportCmd(g), newExportCmd(g))
	add("calls", newCallCmd(g), newSignCmd(g), newExplainCmd(g))
	add("other", newStatusCmd(g), newTopCmd(g), newMetricsCmd(g), newAuditCmd(g), newVersionCmd(g))
	root.SetHelpCommandGroupID("other")
	root.SetCompletionCommandGroupID("other")
	return root
}

func (g *globals) defaults(cmd *cobra.Command) error {
	env := func(flag string, v *string, name, def string) {
		if !cmd.Flags().Changed(flag) && *v == "" {
			*v = g.getenv(name)
		}
		if *v == "" {
			*v = def
		}
	}
	env("server", &g.server, "APIGW_SERVER", DefaultServer)
	env("instance", &g.instance, "APIGW_INSTANCE", "default")
	env("token", &g.token, "APIGW_ADMIN_TOKEN", "")
	return nil
}

// Main runs apigctl with args and returns the process exit code.
func Main(ctx context.Context, args []string, s Streams, getenv func(string) string) int {
	root := NewRoot(s, getenv)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return report(s.Err, err)
}

// report prints err and returns its exit code.
func report(w io.Writer, err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if !errors.As(err, &ee) {
		fmt.Fprintf(w, "error: %v\nRun 'apigctl --help' for usage.\n", err)
		return ExitUsage
	}
	if ee.err != nil {
		fmt.Fprintf(w, "error: %s\n", describeError(ee))
	}
	if ee.code == ExitUsage {
		fmt.Fprintln(w, "Run 'apigctl --help' for usage.")
	}
	return ee.code
}

// withAdmin wraps a command that talks to the admin API: it dials (once),
// bounds the call with --request-timeout and maps errors like run.
func withAdmin(g *globals, fn func(ctx context.Context, c adminv1.AdminServiceClient, cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return run(g, func(cmd *cobra.Command, args []string) error {
		c, err := g.client()
		if err != nil {
			return err
		}
		ctx, cancel := g.ctx(cmd.Context())
		defer cancel()
		return fn(ctx, c, cmd, args)
	})
}
