package extauth

import (
	"context"
	"net/netip"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// call is one Check: the request, what was resolved and decided so far,
// and the mutations for the backend request, grouped by concern. One call
// is one allocation: the groups are values, and their fixed-size buffers
// keep the common cases free of further allocations.
type call struct {
	s     *Server
	ctx   context.Context
	now   time.Time // injected clock
	start time.Time // wall clock, for latency
	cr    *authv3.CheckRequest
	req   request
	plans *plans

	target   target      // the API the request is for
	params   paramValues // the values of the API's declared parameters
	client   clientAddr  // the real client IP, computed on first use
	caller   caller      // who calls: app, account, frontend authorizer
	backend  backendCall // the backend selected, its authorizer and path
	mut      mutations   // the changes to the backend request
	decision decision    // the outcome, for the response, metrics and logs
}

// target is the API a request is for, resolved from the route's context
// extensions.
type target struct {
	inst    *model.Instance
	groupID string
	env     *apigwv1.Environment
	plan    *apiPlan
	api     *apigwv1.Api
}

// paramValues holds the values of the API's declared parameters, in the
// order of apiPlan.params.
type paramValues struct {
	vals []pval
	buf  [4]pval // backs vals for up to 4 parameters
	rest string  // SWA remainder of the path
}

// clientAddr is the real client IP per the instance's settings (see
// call.clientIP), computed once.
type clientAddr struct {
	ip   netip.Addr
	str  string // ip as text, "" when invalid
	done bool
}

// caller is who calls, as authentication found it.
type caller struct {
	app      *apigwv1.App
	account  string
	accName  string
	iamAuth  bool
	frontCtx map[string]string // the frontend authorizer's context
}

// backendCall is the backend selected for the request.
type backendCall struct {
	plan     *backendPlan
	authzCtx map[string]string // the backend authorizer's context
	path     string            // the backend path, when hasPath
	hasPath  bool
	// breakerRule is the breaker plug-in's downgrade rule the request
	// matched, for the access log; downgraded: sent to an open breaker's
	// downgrade, or passed through by one (its result must not feed the
	// breaker); passthrough: the headers of a passthrough downgrade.
	breakerRule string
	downgraded  bool
	passthrough []*apigwv1.MockHeader
}

// decision is the outcome of a check.
type decision struct {
	debug       bool // the request asked for debug headers
	allowed     bool
	reason      Reason
	denial      *denial
	authzCached bool // a custom authorizer answered from its cache
}
