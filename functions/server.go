// Package functions is the component that serves FUNCTION backends: Envoy
// routes their requests to it, it builds APIG's function-trigger event,
// POSTs it to the HTTP endpoint the instance's function registry maps the
// function onto, and turns the reply into the HTTP response (sync), or
// answers at once and calls the function in the background (async).
package functions

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/gwresp"
	"github.com/apigw/apigw/model/live"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// DefaultMaxAsync is the default bound of concurrent async invocations.
const DefaultMaxAsync = 256

// maxReply bounds a function's reply (sync).
const maxReply = 64 << 20

// Options configure a Server.
type Options struct {
	// MaxAsync bounds the async invocations in flight; beyond it calls are
	// dropped and counted (apigw_function_async_dropped_total).
	MaxAsync int
	// Client calls the functions (default: a client with no overall
	// timeout; each call has the function's).
	Client     *http.Client
	Registerer prometheus.Registerer
}

// Server is the function component's HTTP handler.
type Server struct {
	feed    *live.Feed
	log     *slog.Logger
	client  *http.Client
	slots   chan struct{}
	bg      context.Context
	calls   *prometheus.CounterVec
	dropped prometheus.Counter
	// ndropped mirrors dropped for Dropped.
	ndropped atomic.Int64
}

// New returns the handler. Async invocations run under bg (they end when
// it does).
func New(bg context.Context, feed *live.Feed, log *slog.Logger, o Options) *Server {
	if o.MaxAsync <= 0 {
		o.MaxAsync = DefaultMaxAsync
	}
	if o.Client == nil {
		o.Client = &http.Client{}
	}
	s := &Server{feed: feed, log: log, client: o.Client, slots: make(chan struct{}, o.MaxAsync), bg: bg,
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "apigw_function_calls_total",
			Help: "Function backend invocations by invocation type and result (ok, error, timeout)."}, []string{"invocation", "result"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "apigw_function_async_dropped_total",
			Help: "Async function invocations dropped because the bound of concurrent async invocations was reached."}),
	}
	if o.Registerer != nil {
		o.Registerer.MustRegister(s.calls, s.dropped)
	}
	return s
}

// Dropped returns the number of async invocations dropped so far.
func (s *Server) Dropped() int64 { return s.ndropped.Load() }

// target is one resolved function call.
type target struct {
	fn      *apigwv1.FunctionTarget
	call    Call
	async   bool
	timeout time.Duration
}

func (s *Server) resolve(r *http.Request) (target, error) {
	snap := s.feed.Current()
	if snap == nil {
		return target{}, errors.New("no configuration yet")
	}
	in := snap.Instance(r.Header.Get(dataplane.FunctionInstanceHeader))
	if in == nil {
		return target{}, fmt.Errorf("unknown instance %q", r.Header.Get(dataplane.FunctionInstanceHeader))
	}
	apiID, envID := r.Header.Get(dataplane.FunctionAPIHeader), r.Header.Get(dataplane.FunctionEnvHeader)
	pub := in.Served(apiID, envID)
	policy := r.Header.Get(dataplane.FunctionPolicyHeader)
	var b function
	var err error
	switch {
	case pub == nil || pub.Api == nil:
		return target{}, fmt.Errorf("API %s is not served in environment %s", apiID, envID)
	case strings.HasPrefix(policy, model.BreakerPolicyPrefix):
		// An open breaker's func downgrade, whatever the API's backend.
		b, err = breakerFunction(in, apiID, envID, policy)
	case pub.Api.BackendType != model.BackendFunction || pub.Api.FuncInfo == nil:
		return target{}, fmt.Errorf("API %s is not served with a FUNCTION backend in environment %s", apiID, envID)
	default:
		b, err = backendFunction(pub.Api, policy)
	}
	if err != nil {
		return target{}, err
	}
	a := pub.Api
	fn := model.ResolveFunction(in.Config, b.urn, b.version, b.alias)
	if fn == nil {
		return target{}, fmt.Errorf("function %s is not in the registry", b.urn)
	}
	t := target{fn: fn, async: b.invocation == "async",
		call: Call{APIID: a.Id, ReqURI: a.ReqUri, Base64: a.IsSendFgBodyBase64 == nil || *a.IsSendFgBodyBase64}}
	if env := in.Env(envID); env != nil {
		t.call.Stage = env.Name
	}
	ms := b.timeout
	if ms <= 0 {
		ms = model.DefaultBackendTimeout
	}
	if fn.Timeout > 0 && fn.Timeout < ms {
		ms = fn.Timeout
	}
	t.timeout = time.Duration(ms) * time.Millisecond
	return t, nil
}

// function is the function one FUNCTION backend of an API calls.
type function struct {
	urn, version, alias, invocation string
	timeout                         int32
}

// backendFunction returns the function of the API's FUNCTION backend the
// route named: the FUNCTION policy backend called policy, or the default
// backend (func_info) when policy is empty. A policy the API does not
// have (the route and the component's view disagree while a publication
// changes) is an error, never the default backend's function.
func backendFunction(a *apigwv1.Api, policy string) (function, error) {
	if policy == "" {
		fi := a.FuncInfo
		return function{fi.FunctionUrn, fi.Version, fi.AliasUrn, fi.InvocationType, fi.Timeout}, nil
	}
	for _, p := range a.PolicyFunctions {
		if p.Name == policy {
			return function{p.FunctionUrn, p.Version, p.AliasUrn, p.InvocationType, p.Timeout}, nil
		}
	}
	return function{}, fmt.Errorf("API %s has no FUNCTION policy backend %q", a.Id, policy)
}

// breakerFunction returns the function of the func downgrade the breaker
// plug-in bound to (API, environment) names policy
// (model.BreakerPolicyName). A plug-in or downgrade that is no longer
// there is an error.
func breakerFunction(in *model.Instance, apiID, envID, policy string) (function, error) {
	v := model.BreakerContentOf(in.PluginOf(apiID, envID, model.PluginBreaker))
	if v == nil {
		return function{}, fmt.Errorf("API %s has no breaker plug-in in environment %s", apiID, envID)
	}
	for _, p := range model.BreakerFunctionPolicies(v, nil) {
		if p.Name == policy {
			return function{p.FunctionUrn, p.Version, p.AliasUrn, p.InvocationType, p.Timeout}, nil
		}
	}
	return function{}, fmt.Errorf("API %s has no breaker func downgrade %q", apiID, policy)
}

// ServeHTTP serves one FUNCTION backend request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t, err := s.resolve(r)
	if err != nil {
		s.log.Warn("function call refused", "err", err)
		writeError(w, gwresp.ErrNoBackend)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, gwresp.ErrBadRequest)
		return
	}
	ev, err := json.Marshal(BuildEvent(r, body, t.call))
	if err != nil {
		writeError(w, gwresp.ErrInternal)
		return
	}
	if t.async {
		s.invokeAsync(t, ev, r.Header.Get("X-Request-Id"))
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"request_id": r.Header.Get("X-Request-Id")})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), t.timeout)
	defer cancel()
	reply, err := s.invoke(ctx, t, ev)
	if err != nil {
		s.calls.WithLabelValues("sync", result(err)).Inc()
		s.log.Warn("function call failed", "url", t.fn.Url, "err", err)
		if errors.Is(err, context.DeadlineExceeded) {
			writeError(w, gwresp.ErrBackendTimeout)
		} else {
			writeError(w, gwresp.ErrBackendUnavailable)
		}
		return
	}
	rep, out, err := ParseReply(reply)
	if err != nil {
		s.calls.WithLabelValues("sync", "error").Inc()
		s.log.Warn("function reply refused", "url", t.fn.Url, "err", err)
		writeError(w, gwresp.ErrBackendUnavailable)
		return
	}
	s.calls.WithLabelValues("sync", "ok").Inc()
	WriteReply(w, rep, out)
}

func (s *Server) invokeAsync(t target, ev []byte, requestID string) {
	select {
	case s.slots <- struct{}{}:
	default:
		s.dropped.Inc()
		s.ndropped.Add(1)
		s.log.Warn("async function call dropped: too many in flight", "url", t.fn.Url, "request_id", requestID)
		return
	}
	go func() {
		defer func() { <-s.slots }()
		ctx, cancel := context.WithTimeout(s.bg, t.timeout)
		defer cancel()
		_, err := s.invoke(ctx, t, ev)
		s.calls.WithLabelValues("async", result(err)).Inc()
		if err != nil {
			s.log.Warn("async function call failed", "url", t.fn.Url, "request_id", requestID, "err", err)
		}
	}()
}

// invoke POSTs the event and returns the reply body of a 2xx answer.
func (s *Server) invoke(ctx context.Context, t target, ev []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.fn.Url, bytes.NewReader(ev))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if t.fn.Authorization != "" {
		req.Header.Set("Authorization", t.fn.Authorization)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxReply+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxReply {
		return nil, fmt.Errorf("the reply is larger than %d bytes", maxReply)
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("the function endpoint answered %s", resp.Status)
	}
	return b, nil
}

func result(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	return "error"
}

func writeError(w http.ResponseWriter, e gwresp.Error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(int(e.Status))
	_ = json.NewEncoder(w).Encode(map[string]string{"error_code": e.Code, "error_msg": e.Message})
}
