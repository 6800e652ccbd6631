package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
)

// Echo is what the backend answers: the request as it arrived.
type Echo struct {
	Backend string              `json:"backend"`
	Method  string              `json:"method"`
	Path    string              `json:"path"`
	Query   map[string][]string `json:"query,omitempty"`
	Host    string              `json:"host"`
	Headers map[string]string   `json:"headers"`
	Body    string              `json:"body,omitempty"`
}

// tokens are the bearer tokens the sample authorizer accepts, by user.
var tokens = map[string]string{"Bearer demo-token-alice": "alice", "Bearer demo-token-bob": "bob"}

// Handler serves one named backend: /healthz, the custom authorizer at
// POST /authorize, and an echo of any other request.
func Handler(name string, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.HandleFunc("POST /authorize", func(w http.ResponseWriter, r *http.Request) { authorize(w, r, log) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		e := Echo{Backend: name, Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.Query(), Host: r.Host, Headers: map[string]string{}, Body: string(body)}
		keys := make([]string, 0, len(r.Header))
		for k := range r.Header {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			e.Headers[strings.ToLower(k)] = strings.Join(r.Header[k], ",")
		}
		log.Info("request", "backend", name, "method", r.Method, "path", e.Path)
		writeJSON(w, http.StatusOK, e)
	})
	return mux
}

// authorize answers apigw's custom-authorizer event (docs/extauth.md).
func authorize(w http.ResponseWriter, r *http.Request, log *slog.Logger) {
	var ev struct {
		Headers map[string]string `json:"headers"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&ev); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	user, ok := tokens[ev.Headers["authorization"]]
	log.Info("authorize", "allow", ok, "user", user)
	if !ok {
		writeJSON(w, http.StatusOK, map[string]any{"status": "deny"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "allow", "context": map[string]string{"user": user}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
