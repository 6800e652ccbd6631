package openapi

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Conflict policies for objects that exist with another definition.
const (
	ConflictFail      = "fail"
	ConflictSkip      = "skip"
	ConflictOverwrite = "overwrite"
)

// ImportOptions control how a plan is applied.
type ImportOptions struct {
	Instance string
	// Group names the group to import into (default: the document's
	// info.title). An existing group is merged into unless NewGroup is set.
	Group    string
	NewGroup bool
	// Env is the environment of the policy bindings (default RELEASE).
	Env string
	// Conflict is fail (default), skip or overwrite.
	Conflict string
	DryRun   bool
	// NewID generates ids (model.NewID by default).
	NewID func() string
}

// ImportResult reports an import.
type ImportResult struct {
	GroupID string
	// Results of the Apply, in request order.
	Results []*adminv1.ApplyResult
	// Skipped lists objects kept as stored (conflict policy skip).
	Skipped []string
	// APIIDs are the ids of the imported APIs.
	APIIDs []string
	// Request is the Apply request sent.
	Request *adminv1.ApplyRequest
	// Warnings are found against what is stored (specials naming apps
	// that do not exist).
	Warnings []Problem
}

// ConflictError lists objects that exist with another definition.
type ConflictError struct{ Objects []string }

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%d object(s) exist with another definition (use --conflict skip or overwrite): %s", len(e.Objects), strings.Join(e.Objects, ", "))
}

// ApplyError is an Apply refused by the admin API, with the source node
// of each offending resource and of its fields.
type ApplyError struct {
	Err   error
	Ptrs  []string
	Nodes []Nodes
}

func (e *ApplyError) Error() string { return e.Err.Error() }

func (e *ApplyError) Unwrap() error { return e.Err }

var reIndex = regexp.MustCompile(`^resources\[(\d+)\]\.?`)

// Field maps a field violation path of the Apply to the document node it
// was read from, followed by the field: "/paths/~1a/get/parameters/0:
// req_params[0].name" (the node of the resource when the field's own is
// not known).
func (e *ApplyError) Field(f string) string {
	m := reIndex.FindStringSubmatch(f)
	if m == nil {
		return f
	}
	i, _ := strconv.Atoi(m[1])
	if i >= len(e.Ptrs) {
		return f
	}
	rest := f[len(m[0]):]
	p := e.Ptrs[i]
	if rest != "" && i < len(e.Nodes) {
		p = nodeOf(p, e.Nodes[i], rest)
	}
	if p == "" {
		p = "/"
	}
	if rest == "" {
		return p
	}
	return p + ": " + rest
}

type request struct {
	req   *adminv1.ApplyRequest
	ptrs  []string
	nodes []Nodes
	label []string
	// apiOf is the index of the API a binding belongs to (-1 otherwise).
	apiOf []int
}

func (r *request) add(m proto.Message, p string, fields Nodes, label string, api int) {
	r.req.Resources = append(r.req.Resources, model.Wrap(m))
	r.ptrs = append(r.ptrs, p)
	r.nodes = append(r.nodes, fields)
	r.label = append(r.label, label)
	r.apiOf = append(r.apiOf, api)
}

// Import applies a plan through the admin API in one atomic Apply.
func Import(ctx context.Context, c adminv1.AdminServiceClient, plan *Plan, opt ImportOptions) (*ImportResult, error) {
	if opt.NewID == nil {
		opt.NewID = model.NewID
	}
	if opt.Env == "" {
		opt.Env = model.ReleaseEnvName
	}
	if opt.Conflict == "" {
		opt.Conflict = ConflictFail
	}
	name := opt.Group
	if name == "" {
		name = plan.GroupName
	}
	if name == "" {
		return nil, fmt.Errorf("the document has no info.title: name the group")
	}
	res := &ImportResult{}
	r := &request{req: &adminv1.ApplyRequest{Instance: opt.Instance}}
	var existing []*apigwv1.Api
	g, err := c.Get(ctx, &adminv1.GetRequest{Instance: opt.Instance, Kind: model.KindGroup, Id: name})
	switch {
	case err == nil:
		if opt.NewGroup {
			return nil, &ConflictError{Objects: []string{"group/" + name}}
		}
		res.GroupID = g.GetResource().GetGroup().GetId()
		if existing, err = groupAPIs(ctx, c, opt.Instance, res.GroupID); err != nil {
			return nil, err
		}
	case status.Code(err) == codes.NotFound:
		res.GroupID = opt.NewID()
		r.add(&apigwv1.ApiGroup{Id: res.GroupID, Name: name, Remark: plan.GroupRemark}, "/info", nil, "group/"+name, -1)
	default:
		return nil, err
	}
	for _, a := range plan.Authorizers {
		r.add(a.Msg, a.Ptr, a.Fields, "authorizer/"+a.Msg.Name, -1)
	}
	if err := warnSpecials(ctx, c, opt.Instance, plan, res); err != nil {
		return nil, err
	}
	for _, t := range plan.Throttles {
		m := proto.Clone(t.Msg).(*apigwv1.Throttle)
		r.add(m, t.Ptr, t.Fields, "throttle/"+m.Name, -1)
	}
	for _, a := range plan.ACLs {
		r.add(a.Msg, a.Ptr, a.Fields, "acl/"+a.Msg.AclName, -1)
	}
	for _, p := range plan.Plugins {
		r.add(p.Msg, p.Ptr, p.Fields, "plugin/"+p.Msg.PluginName, -1)
	}
	for _, s := range plan.Responses {
		m := proto.Clone(s.Msg).(*apigwv1.GatewayResponse)
		m.GroupId = res.GroupID
		r.add(m, s.Ptr, s.Fields, "response/"+m.Name, -1)
	}
	type binding struct {
		msg       proto.Message
		ptr, name string
		api       int
	}
	var bindings []binding
	for _, it := range plan.APIs {
		a := proto.Clone(it.API).(*apigwv1.Api)
		a.GroupId = res.GroupID
		a.Id = match(existing, a)
		if a.Id == "" {
			a.Id = opt.NewID()
		}
		res.APIIDs = append(res.APIIDs, a.Id)
		idx := len(r.req.Resources)
		r.add(a, it.Ptr, it.Fields, "api/"+a.Name, idx)
		if it.Throttle != "" {
			bindings = append(bindings, binding{&apigwv1.ThrottleBinding{ApiId: a.Id, EnvId: opt.Env, StrategyId: it.Throttle}, it.ThrottlePtr, "throttle_binding/" + a.Name + "/" + it.Throttle, idx})
		}
		if it.ACL != "" {
			bindings = append(bindings, binding{&apigwv1.AclBinding{ApiId: a.Id, EnvId: opt.Env, AclId: it.ACL}, it.ACLPtr, "acl_binding/" + a.Name + "/" + it.ACL, idx})
		}
		for _, pl := range it.Plugins {
			bindings = append(bindings, binding{&apigwv1.PluginBinding{ApiId: a.Id, EnvId: opt.Env, PluginId: pl.Msg}, pl.Ptr, "plugin_binding/" + a.Name + "/" + pl.Msg, idx})
		}
	}
	for _, b := range bindings {
		r.add(b.msg, b.ptr, nil, b.name, b.api)
	}
	if err := resolveConflicts(ctx, c, r, opt, res); err != nil {
		return nil, err
	}
	r.req.DryRun = opt.DryRun
	resp, err := c.Apply(ctx, r.req)
	if err != nil {
		return nil, &ApplyError{Err: err, Ptrs: r.ptrs, Nodes: r.nodes}
	}
	res.Results = resp.GetResults()
	res.Request = r.req
	return res, nil
}

// warnSpecials warns about throttling specials that name no app: APIG
// exports name apps by opaque id, and such a special is stored as it is
// (it applies once an app with that id exists).
func warnSpecials(ctx context.Context, c adminv1.AdminServiceClient, instance string, plan *Plan, res *ImportResult) error {
	for _, s := range plan.AppSpecials {
		_, err := c.Get(ctx, &adminv1.GetRequest{Instance: instance, Kind: model.KindApp, Id: s.Msg})
		switch {
		case status.Code(err) == codes.NotFound:
			res.Warnings = append(res.Warnings, Problem{Pointer: s.Ptr,
				Message: fmt.Sprintf("app %q does not exist; the special quota is stored as it is and applies once an app with this id exists", s.Msg)})
		case err != nil:
			return err
		}
	}
	return nil
}

// resolveConflicts asks the admin API (dry run) which objects would change
// and applies the conflict policy to those that exist.
func resolveConflicts(ctx context.Context, c adminv1.AdminServiceClient, r *request, opt ImportOptions, res *ImportResult) error {
	probe := proto.Clone(r.req).(*adminv1.ApplyRequest)
	probe.DryRun = true
	resp, err := c.Apply(ctx, probe)
	if err != nil {
		return &ApplyError{Err: err, Ptrs: r.ptrs, Nodes: r.nodes}
	}
	var conflicts []int
	for i, x := range resp.GetResults() {
		if x.GetAction() == "updated" {
			conflicts = append(conflicts, i)
		}
	}
	if len(conflicts) == 0 || opt.Conflict == ConflictOverwrite {
		return nil
	}
	if opt.Conflict != ConflictSkip {
		var names []string
		for _, i := range conflicts {
			names = append(names, r.label[i])
		}
		return &ConflictError{Objects: names}
	}
	drop := map[int]bool{}
	for _, i := range conflicts {
		drop[i] = true
		if r.apiOf[i] == i { // a skipped API keeps its bindings as stored
			for j := range r.apiOf {
				if r.apiOf[j] == i {
					drop[j] = true
				}
			}
		}
	}
	kept := &request{req: &adminv1.ApplyRequest{Instance: r.req.Instance}}
	for i := range r.req.Resources {
		if drop[i] {
			res.Skipped = append(res.Skipped, r.label[i])
			continue
		}
		kept.req.Resources = append(kept.req.Resources, r.req.Resources[i])
		kept.ptrs = append(kept.ptrs, r.ptrs[i])
		kept.nodes = append(kept.nodes, r.nodes[i])
		kept.label = append(kept.label, r.label[i])
		kept.apiOf = append(kept.apiOf, r.apiOf[i])
	}
	*r = *kept
	return nil
}

// match finds the stored API an imported one replaces: same method, path
// and match mode (APIG's rule), else same name.
func match(existing []*apigwv1.Api, a *apigwv1.Api) string {
	mode := a.MatchMode
	if mode == "" {
		mode = model.MatchNormal
	}
	for _, e := range existing {
		if e.ReqMethod == a.ReqMethod && e.ReqUri == a.ReqUri && e.MatchMode == mode {
			return e.Id
		}
	}
	for _, e := range existing {
		if e.Name == a.Name {
			return e.Id
		}
	}
	return ""
}

func groupAPIs(ctx context.Context, c adminv1.AdminServiceClient, instance, group string) ([]*apigwv1.Api, error) {
	var out []*apigwv1.Api
	token := ""
	for {
		resp, err := c.List(ctx, &adminv1.ListRequest{Instance: instance, Kind: model.KindAPI, GroupId: group, PageSize: 1000, PageToken: token})
		if err != nil {
			return nil, err
		}
		for _, r := range resp.GetResources() {
			out = append(out, r.GetApi())
		}
		if token = resp.GetNextPageToken(); token == "" {
			return out, nil
		}
	}
}
