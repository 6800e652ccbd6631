package openapi

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi3"
	"sigs.k8s.io/yaml"

	"github.com/apigw/apigw/model"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Export formats.
const (
	Swagger2 = "2.0"
	OpenAPI3 = "3.0"
)

// ExportOptions select what is exported.
type ExportOptions struct {
	Instance string
	Group    string
	// Env whose published definitions and bindings are exported (default
	// RELEASE).
	Env string
	// Draft exports the current definitions, published or not (APIG's
	// "dev" definition).
	Draft bool
	// APIs restricts the export to these APIs (ids or names).
	APIs []string
	// Format is Swagger2 (default) or OpenAPI3.
	Format string
	// JSON writes JSON instead of YAML.
	JSON bool
	// Version is info.version (default "1.0").
	Version string
}

// exported is what an export gathers before rendering.
type exported struct {
	group     *apigwv1.ApiGroup
	apis      []*apigwv1.Api
	throttle  map[string]string // api id → throttle name
	acl       map[string]string // api id → ACL name
	throttles map[string]*apigwv1.Throttle
	acls      map[string]*apigwv1.Acl
	plugins   map[string]*apigwv1.Plugin // by id
	pluginsOf map[string][]string        // api id → plug-in names
	sets      []*apigwv1.GatewayResponse
	names     *names
}

// Export renders a group (or some of its APIs) as Swagger 2.0 or OpenAPI
// 3.0 with the x-apigateway-* extensions.
func Export(ctx context.Context, c adminv1.AdminServiceClient, opt ExportOptions) ([]byte, error) {
	if opt.Env == "" {
		opt.Env = model.ReleaseEnvName
	}
	x, err := gather(ctx, c, opt)
	if err != nil {
		return nil, err
	}
	var doc any
	switch opt.Format {
	case "", Swagger2, "2", "swagger":
		doc = x.swagger(opt)
	case OpenAPI3, "3", "3.0.3", "openapi":
		doc = x.openapi3(opt)
	default:
		return nil, fmt.Errorf("format %q: use 2.0 or 3.0", opt.Format)
	}
	js, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	if opt.JSON {
		var v any
		_ = json.Unmarshal(js, &v)
		out, err := json.MarshalIndent(v, "", "  ")
		return append(out, '\n'), err
	}
	return yaml.JSONToYAML(js)
}

func gather(ctx context.Context, c adminv1.AdminServiceClient, opt ExportOptions) (*exported, error) {
	in := opt.Instance
	g, err := c.Get(ctx, &adminv1.GetRequest{Instance: in, Kind: model.KindGroup, Id: opt.Group})
	if err != nil {
		return nil, err
	}
	env, err := c.Get(ctx, &adminv1.GetRequest{Instance: in, Kind: model.KindEnvironment, Id: opt.Env})
	if err != nil {
		return nil, err
	}
	envID := env.GetResource().GetEnvironment().GetId()
	x := &exported{group: g.GetResource().GetGroup(), throttle: map[string]string{}, acl: map[string]string{},
		throttles: map[string]*apigwv1.Throttle{}, acls: map[string]*apigwv1.Acl{}, plugins: map[string]*apigwv1.Plugin{}, pluginsOf: map[string][]string{},
		names: &names{channels: map[string]string{}, groups: map[[2]string]string{}, authorizers: map[string]*apigwv1.Authorizer{}, responses: map[string]string{}}}
	drafts, err := groupAPIs(ctx, c, in, x.group.Id)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, a := range opt.APIs {
		want[a] = true
	}
	for _, d := range drafts {
		if len(want) > 0 && !want[d.Id] && !want[d.Name] {
			continue
		}
		a := d
		if !opt.Draft {
			h, err := c.ListPublications(ctx, &adminv1.ListPublicationsRequest{Instance: in, ApiId: d.Id, EnvId: envID})
			if err != nil {
				return nil, err
			}
			a = nil
			for _, p := range h.GetPublications() {
				if p.GetId() == h.GetCurrentPublicationId() {
					a = p.GetApi()
				}
			}
			if a == nil {
				continue // not published in env
			}
		}
		x.apis = append(x.apis, a)
	}
	sort.Slice(x.apis, func(i, j int) bool { return x.apis[i].Name < x.apis[j].Name })
	if err := x.lookups(ctx, c, in, envID); err != nil {
		return nil, err
	}
	return x, nil
}

func (x *exported) lookups(ctx context.Context, c adminv1.AdminServiceClient, in, envID string) error {
	get := func(kind, id string) (*apigwv1.Resource, error) {
		r, err := c.Get(ctx, &adminv1.GetRequest{Instance: in, Kind: kind, Id: id})
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", kind, id, err)
		}
		return r.GetResource(), nil
	}
	for _, a := range x.apis {
		for _, r := range model.Refs(a) {
			id := r.Get()
			if id == "" {
				continue
			}
			switch r.Kind {
			case model.KindAuthorizer:
				if x.names.authorizers[id] == nil {
					res, err := get(r.Kind, id)
					if err != nil {
						return err
					}
					x.names.authorizers[id] = res.GetAuthorizer()
				}
			case model.KindOrchestration:
				// x-apigateway-orchestrations lists rule names.
				res, err := get(r.Kind, id)
				if err != nil {
					return err
				}
				r.Set(res.GetOrchestration().GetOrchestrationName())
			case model.KindVpcChannel:
				if _, ok := x.names.channels[id]; !ok {
					res, err := get(r.Kind, id)
					if err != nil {
						return err
					}
					x.names.channels[id] = res.GetVpcChannel().GetName()
					for _, g := range res.GetVpcChannel().GetMemberGroups() {
						if g.MemberGroupId != "" {
							x.names.groups[[2]string{id, g.MemberGroupId}] = g.MemberGroupName
						}
					}
				}
			}
		}
		tb, err := c.List(ctx, &adminv1.ListRequest{Instance: in, Kind: model.KindThrottleBinding, ApiId: a.Id, EnvId: envID})
		if err != nil {
			return err
		}
		for _, b := range tb.GetResources() {
			id := b.GetThrottleBinding().GetStrategyId()
			if x.throttles[id] == nil {
				res, err := get(model.KindThrottle, id)
				if err != nil {
					return err
				}
				x.throttles[id] = res.GetThrottle()
			}
			x.throttle[a.Id] = x.throttles[id].Name
		}
		if err := x.lookupPlugins(ctx, c, in, envID, a.Id); err != nil {
			return err
		}
		ab, err := c.List(ctx, &adminv1.ListRequest{Instance: in, Kind: model.KindACLBinding, ApiId: a.Id, EnvId: envID})
		if err != nil {
			return err
		}
		for i, b := range ab.GetResources() {
			if i > 0 {
				break // the extension names one ACL per API
			}
			id := b.GetAclBinding().GetAclId()
			if x.acls[id] == nil {
				res, err := get(model.KindACL, id)
				if err != nil {
					return err
				}
				x.acls[id] = res.GetAcl()
			}
			x.acl[a.Id] = x.acls[id].AclName
		}
	}
	rs, err := c.List(ctx, &adminv1.ListRequest{Instance: in, Kind: model.KindResponse, GroupId: x.group.Id, PageSize: 1000})
	if err != nil {
		return err
	}
	for _, r := range rs.GetResources() {
		s := r.GetResponse()
		x.sets = append(x.sets, s)
		x.names.responses[s.Id] = s.Name
	}
	sort.Slice(x.sets, func(i, j int) bool { return x.sets[i].Name < x.sets[j].Name })
	return nil
}

// schemeNames lists the security schemes the APIs use, plus BACKEND
// authorizers referenced by backends.
func (x *exported) schemeNames() []string {
	set := map[string]bool{}
	for _, a := range x.apis {
		for s := range securityOf(a, x.names) {
			set[s] = true
		}
	}
	for _, az := range x.names.authorizers {
		set[az.Name] = true
	}
	return sortedKeys(set)
}

func (x *exported) rootExt() map[string]any {
	ext := map[string]any{}
	if len(x.throttles) > 0 {
		m := map[string]any{}
		for _, t := range x.throttles {
			m[t.Name] = throttleExt(t)
		}
		ext[extRatelimits] = m
	}
	if len(x.acls) > 0 {
		m := map[string]any{}
		for _, a := range x.acls {
			m[a.AclName] = aclExt(a)
		}
		ext[extACLs] = m
	}
	if len(x.sets) > 0 {
		ext[extResponses] = responsesExt(x.sets)
	}
	x.pluginsExt(ext)
	return ext
}

func (x *exported) host() string {
	if len(x.group.UrlDomains) > 0 {
		return x.group.UrlDomains[0].Domain
	}
	return ""
}

func schemesOf(protocol string) []string {
	switch protocol {
	case model.ProtoHTTP:
		return []string{"http"}
	case model.ProtoBoth:
		return []string{"http", "https"}
	}
	return []string{"https"}
}

func version(opt ExportOptions) string {
	if opt.Version != "" {
		return opt.Version
	}
	return "1.0"
}

func (x *exported) swagger(opt ExportOptions) *openapi2.T {
	doc := &openapi2.T{Swagger: "2.0", Info: openapi3.Info{Title: x.group.Name, Description: x.group.Remark, Version: version(opt)},
		Host: x.host(), Paths: map[string]*openapi2.PathItem{}, Extensions: x.rootExt()}
	for _, name := range x.schemeNames() {
		header, ext := schemeExt(name, x.names)
		doc.SecurityDefinitions = setScheme2(doc.SecurityDefinitions, name, &openapi2.SecurityScheme{Type: "apiKey", In: "header", Name: header, Extensions: ext})
	}
	for _, a := range x.apis {
		op := &openapi2.Operation{OperationID: a.Name, Description: a.Remark, Tags: a.Tags, Schemes: schemesOf(a.ReqProtocol),
			Extensions: operationExt(a, x.names, x.throttle[a.Id], x.acl[a.Id])}
		x.opPlugins(op.Extensions, a.Id)
		if s := securityOf(a, x.names); s != nil {
			sr := openapi2.SecurityRequirements{s}
			op.Security = &sr
		}
		for _, p := range a.ReqParams {
			op.Parameters = append(op.Parameters, param2(p))
		}
		op.Responses = openapi2.NewResponsesWithCapacity(1)
		op.Responses.Set("default", &openapi2.Response{Description: "default response", Extensions: sampleExt(a)})
		item := doc.Paths[a.ReqUri]
		if item == nil {
			item = &openapi2.PathItem{}
			doc.Paths[a.ReqUri] = item
		}
		setOperation2(item, a.ReqMethod, op)
	}
	return doc
}

func setScheme2(m map[string]*openapi2.SecurityScheme, k string, v *openapi2.SecurityScheme) map[string]*openapi2.SecurityScheme {
	if m == nil {
		m = map[string]*openapi2.SecurityScheme{}
	}
	m[k] = v
	return m
}

func setOperation2(item *openapi2.PathItem, method string, op *openapi2.Operation) {
	if method == model.MethodAny {
		if item.Extensions == nil {
			item.Extensions = map[string]any{}
		}
		var raw any
		b, _ := json.Marshal(op)
		_ = json.Unmarshal(b, &raw)
		item.Extensions[anyMethodKey] = raw
		return
	}
	item.SetOperation(method, op)
}

func sampleExt(a *apigwv1.Api) map[string]any {
	m := map[string]any{}
	setStr(m, extNormalSample, a.ResultNormalSample)
	setStr(m, extFailureSample, a.ResultFailureSample)
	if len(m) == 0 {
		return nil
	}
	return m
}

func paramExt(p *apigwv1.ReqParam) map[string]any {
	m := map[string]any{extPassThrough: map[int32]string{1: "always", 2: "never"}[p.PassThrough]}
	setStr(m, extSample, p.SampleValue)
	if len(p.Orchestrations) > 0 {
		m[extOrchestration] = p.Orchestrations
	}
	return m
}

func paramType(p *apigwv1.ReqParam) string {
	if p.Type == model.TypeNumber {
		return "number"
	}
	return "string"
}

func enumOf(p *apigwv1.ReqParam) []any {
	var out []any
	for _, e := range model.SplitList(p.Enumerations) {
		out = append(out, e)
	}
	return out
}

func floatp(i *int32) *float64 {
	if i == nil || *i == 0 {
		return nil
	}
	f := float64(*i)
	return &f
}

func uintp(i *int32) *uint64 {
	if i == nil || *i <= 0 {
		return nil
	}
	u := uint64(*i)
	return &u
}

func param2(p *apigwv1.ReqParam) *openapi2.Parameter {
	t := openapi3.Types{paramType(p)}
	q := &openapi2.Parameter{Name: p.Name, In: strings.ToLower(p.Location), Required: p.Required == model.Yes, Type: &t,
		Description: p.Remark, Enum: enumOf(p), Minimum: floatp(p.MinNum), Maximum: floatp(p.MaxNum), MaxLength: uintp(p.MaxSize), Extensions: paramExt(p)}
	if p.DefaultValue != "" {
		q.Default = p.DefaultValue
	}
	if u := uintp(p.MinSize); u != nil {
		q.MinLength = *u
	}
	return q
}

func (x *exported) openapi3(opt ExportOptions) *openapi3.T {
	doc := &openapi3.T{OpenAPI: "3.0.3", Info: &openapi3.Info{Title: x.group.Name, Description: x.group.Remark, Version: version(opt)},
		Paths: openapi3.NewPaths(), Components: &openapi3.Components{Extensions: x.rootExt()}}
	host := x.host()
	if host != "" {
		doc.Servers = openapi3.Servers{{URL: "https://" + host}}
	}
	for _, name := range x.schemeNames() {
		header, ext := schemeExt(name, x.names)
		if doc.Components.SecuritySchemes == nil {
			doc.Components.SecuritySchemes = openapi3.SecuritySchemes{}
		}
		doc.Components.SecuritySchemes[name] = &openapi3.SecuritySchemeRef{Value: &openapi3.SecurityScheme{Type: "apiKey", In: "header", Name: header, Extensions: ext}}
	}
	for _, a := range x.apis {
		op := &openapi3.Operation{OperationID: a.Name, Description: a.Remark, Tags: a.Tags, Extensions: operationExt(a, x.names, x.throttle[a.Id], x.acl[a.Id])}
		x.opPlugins(op.Extensions, a.Id)
		if s := securityOf(a, x.names); s != nil {
			op.Security = &openapi3.SecurityRequirements{s}
		}
		if a.ReqProtocol != model.ProtoHTTPS {
			h := host
			if h == "" {
				h = "localhost"
			}
			var servers openapi3.Servers
			for _, s := range schemesOf(a.ReqProtocol) {
				servers = append(servers, &openapi3.Server{URL: s + "://" + h})
			}
			op.Servers = &servers
		}
		for _, p := range a.ReqParams {
			op.Parameters = append(op.Parameters, &openapi3.ParameterRef{Value: param3(p)})
		}
		desc := "default response"
		op.Responses = openapi3.NewResponses(openapi3.WithName("default", &openapi3.Response{Description: &desc, Extensions: sampleExt(a)}))
		item := doc.Paths.Value(a.ReqUri)
		if item == nil {
			item = &openapi3.PathItem{}
			doc.Paths.Set(a.ReqUri, item)
		}
		if a.ReqMethod == model.MethodAny {
			if item.Extensions == nil {
				item.Extensions = map[string]any{}
			}
			var raw any
			b, _ := json.Marshal(op)
			_ = json.Unmarshal(b, &raw)
			item.Extensions[anyMethodKey] = raw
			continue
		}
		item.SetOperation(a.ReqMethod, op)
	}
	return doc
}

func param3(p *apigwv1.ReqParam) *openapi3.Parameter {
	t := openapi3.Types{paramType(p)}
	s := &openapi3.Schema{Type: &t, Enum: enumOf(p), Min: floatp(p.MinNum), Max: floatp(p.MaxNum), MaxLength: uintp(p.MaxSize)}
	if p.DefaultValue != "" {
		s.Default = p.DefaultValue
	}
	if u := uintp(p.MinSize); u != nil {
		s.MinLength = *u
	}
	return &openapi3.Parameter{Name: p.Name, In: strings.ToLower(p.Location), Required: p.Required == model.Yes, Description: p.Remark,
		Schema: &openapi3.SchemaRef{Value: s}, Extensions: paramExt(p)}
}
