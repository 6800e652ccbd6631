// Package console serves apigw's web console: the single-page app built
// from console/web (embedded from console/dist, so that the binary serves
// it without Node.js) and, under the services' paths, the admin API in the
// Connect, gRPC-Web and gRPC protocols, transcoded onto a gRPC server that
// carries the same admin service handlers as the admin port (vanguard).
//
// The browser authenticates with the admin token in an Authorization
// header that the app sets on every call (the token is kept in the tab's
// sessionStorage); nothing rides on a cookie, so a cross-site page cannot
// borrow the user's session. Without a token (loopback, or client
// certificates) the handler refuses requests whose Host is not the
// console's own or a loopback name, which defeats DNS rebinding, and
// cross-origin API calls.
package console

import (
	"net/http"
	"strings"

	"connectrpc.com/vanguard/vanguardgrpc"
	"google.golang.org/grpc"
)

// Options configure the console handler.
type Options struct {
	// Authenticated says that every API call is authenticated by a token
	// or a client certificate. Without it, only requests addressed to a
	// loopback host or to one of Hosts are served.
	Authenticated bool
	// Hosts are host names (without port) the console is reached at,
	// beyond loopback ones.
	Hosts []string
	// AnyHost serves every Host without authentication (apigw's
	// --admin-insecure: the operator chose an open console).
	AnyHost bool
}

// RPCHandler returns an http.Handler serving every service registered on
// gs in the Connect, gRPC-Web and gRPC protocols (binary and JSON), by
// transcoding to gRPC and calling gs: the same handlers and interceptors
// (authentication, panic recovery) as gs served on its own port.
func RPCHandler(gs *grpc.Server) (http.Handler, error) {
	return vanguardgrpc.NewTranscoder(gs)
}

// Handler returns the console: the app's assets, and rpc for the paths of
// services ("/package.Service/Method").
func Handler(rpc http.Handler, opts Options) http.Handler {
	assets := newAssets()
	g := &guard{opts: opts}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.allowHost(r) {
			http.Error(w, "console: unexpected Host header; open the console at the address apigw printed", http.StatusMisdirectedRequest)
			return
		}
		setSecurityHeaders(w.Header())
		if isRPC(r.URL.Path) {
			if !g.allowOrigin(r) {
				http.Error(w, "console: cross-origin API calls are refused", http.StatusForbidden)
				return
			}
			rpc.ServeHTTP(w, r)
			return
		}
		assets.ServeHTTP(w, r)
	})
}

// isRPC reports whether a path names a service method: /pkg.Service/Method.
func isRPC(path string) bool {
	svc, method, ok := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return ok && strings.Contains(svc, ".") && method != "" && !strings.Contains(method, "/")
}

func setSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
}
