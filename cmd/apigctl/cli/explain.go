package cli

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/apigw/apigw/extauth/sign"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
)

func newExplainCmd(g *globals) *cobra.Command {
	var f requestFlags
	var app, output string
	var appCode bool
	cmd := &cobra.Command{
		Use:   "explain URL [-X METHOD] [-H 'Name: value']... [-d BODY] [--app APP [--use-app-code]] [-o yaml|json]",
		Short: "Show how the gateway would handle a request: route, authentication, limits, backend request",
		Long: `Explain asks apigw to evaluate a request against the published configuration
with the code that serves it: the instance is translated to Envoy's
configuration, the request is routed through it, checked by the ext_authz
service and counted by the rate-limit service in a dry run (counters are read,
never used up). It prints the matching route (or why none matches), the
authentication verdict with its APIG code, the limits that apply and the
request the backend would receive — or the response the gateway would answer
itself. Nothing is sent to the backend.

The URL's host is the Host the client sends (a domain of the API's group); its
scheme picks the HTTP or HTTPS listener. --app signs the request server-side
with that app's key and secret (or, with --use-app-code, sends its AppCode),
so the secret never leaves apigw; --app-key/--app-secret sign it here instead.`,
		Example: `  apigctl explain http://shop.example.com/pets/7 --app mobile
  apigctl explain -X POST http://shop.example.com/orders -d '{"id":1}' --stage TEST
  apigctl explain http://shop.example.com/pets/7 -o yaml`,
		Args: cobra.ExactArgs(1),
		RunE: run(g, func(cmd *cobra.Command, args []string) error {
			if output != "" {
				if err := checkOutput(output, outYAML, outJSON); err != nil {
					return usageError(err)
				}
			}
			r, err := f.build(g, args[0], sign.Sign)
			if err != nil {
				return err
			}
			var body []byte
			if r.Body != nil {
				if body, err = io.ReadAll(r.Body); err != nil {
					return err
				}
			}
			req := &adminv1.ExplainRequest{Instance: g.instance, Request: &adminv1.HttpRequest{Method: r.Method, Path: r.URL.RequestURI(),
				Host: r.Host, Body: body, Tls: r.URL.Scheme == "https", Headers: adminv1.HeadersOf(r.Header)}}
			if req.Request.Host == "" {
				req.Request.Host = r.URL.Host
			}
			if app != "" {
				req.Credentials = &adminv1.Credentials{AppId: app, AppCode: appCode}
			}
			if _, err := g.client(); err != nil {
				return err
			}
			ctx, cancel := g.ctx(cmd.Context())
			defer cancel()
			out, err := adminv1.NewDebugServiceClient(g.conn).Explain(ctx, req)
			if err != nil {
				return err
			}
			if output != "" {
				return printMessage(g.streams.Out, output, out)
			}
			printExplain(g.streams.Out, out)
			return nil
		}),
	}
	f.add(cmd)
	cmd.Flags().StringVar(&app, "app", "", "Authenticate as this app (id or name), signed by apigw with its key and secret.")
	cmd.Flags().BoolVar(&appCode, "use-app-code", false, "With --app: send the app's AppCode instead of a signature.")
	cmd.Flags().StringVarP(&output, "output", "o", "", "yaml or json: the whole explanation.")
	return cmd
}

// printExplain writes the explanation for a person.
func printExplain(w io.Writer, e *adminv1.ExplainResponse) {
	r := e.GetRequest()
	fmt.Fprintf(w, "Request:   %s %s (Host %s), configuration revision %d\n", r.GetMethod(), r.GetPath(), r.GetHost(), e.GetRevision())
	rt := e.GetRoute()
	if rt.GetMatched() {
		fmt.Fprintf(w, "Route:     api %s (%s) in %s, backend %s\n", rt.GetApiName(), rt.GetApiId(), rt.GetEnvName(), rt.GetBackend())
		fmt.Fprintf(w, "           Envoy route %s\n", rt.GetRouteName())
	} else {
		fmt.Fprintf(w, "Route:     none: %s\n", rt.GetReason())
	}
	a := e.GetAuth()
	switch {
	case !a.GetChecked():
		fmt.Fprintln(w, "Auth:      not checked")
	case a.GetAllowed():
		fmt.Fprintln(w, "Auth:      allowed")
		for _, h := range a.GetHeadersSet() {
			fmt.Fprintf(w, "           sets %s: %s\n", h.GetName(), h.GetValue())
		}
	default:
		fmt.Fprintf(w, "Auth:      denied %d %s: %s\n", a.GetStatus(), a.GetErrorCode(), a.GetErrorMsg())
	}
	for _, l := range e.GetLimits() {
		if l.GetLimit() == 0 {
			continue
		}
		fmt.Fprintf(w, "Limit:     %s %d/%s, %d remaining after this call (%s)\n", l.GetCode(), l.GetLimit(), l.GetUnit(), l.GetRemaining(), l.GetDescriptor_())
	}
	if b := e.GetBackend(); b != nil {
		fmt.Fprintf(w, "Backend:   %s %s (endpoint %s)\n", b.GetMethod(), b.GetUrl(), b.GetEndpoint())
		for _, h := range b.GetHeaders() {
			fmt.Fprintf(w, "           %s: %s\n", h.GetName(), h.GetValue())
		}
		if len(b.GetBody()) > 0 {
			fmt.Fprintf(w, "\n%s\n", b.GetBody())
		}
	}
	if resp := e.GetResponse(); resp != nil {
		fmt.Fprintf(w, "Response:  %d from the gateway\n", resp.GetStatus())
		for _, h := range resp.GetHeaders() {
			fmt.Fprintf(w, "           %s: %s\n", h.GetName(), h.GetValue())
		}
		if len(resp.GetBody()) > 0 {
			fmt.Fprintf(w, "\n%s\n", bytes.TrimRight(resp.GetBody(), "\n"))
		}
	}
	if len(e.GetTrace()) > 0 {
		fmt.Fprintf(w, "\nTrace:\n  %s\n", strings.Join(e.GetTrace(), "\n  "))
	}
}
