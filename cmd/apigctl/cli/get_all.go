package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/apigw/apigw/cmd/apigctl/manifest"
	"github.com/apigw/apigw/model"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// kindAll is `apigctl get all`: every kind of the instance, or of a group.
const kindAll = "all"

// kindSection is the objects of one kind that get all found.
type kindSection struct {
	kind string
	rs   []*apigwv1.Resource
}

// getAll lists every kind of the instance (instances themselves aside),
// or, with --group, the group, the objects that belong to it (a group_id
// field) and those that belong to its APIs (an api_id field: bindings and
// authorizations). Instance-wide objects (policies, apps, channels,
// authorizers, certificates) are listed without --group only.
func getAll(ctx context.Context, g *globals, c adminv1.AdminServiceClient, f listFilter) ([]kindSection, error) {
	if f.env != "" || f.api != "" || f.tag != "" {
		return nil, usageError(fmt.Errorf("get all takes --group and --name only"))
	}
	var apis map[string]bool
	var group *apigwv1.Resource
	if f.group != "" {
		resp, err := c.Get(ctx, &adminv1.GetRequest{Instance: g.instance, Kind: model.KindGroup, Id: f.group})
		if err != nil {
			return nil, err
		}
		group = resp.GetResource()
		gid := group.GetGroup().GetId()
		rs, err := listAll(ctx, g, c, model.KindAPI, listFilter{group: gid})
		if err != nil {
			return nil, err
		}
		apis = map[string]bool{}
		for _, r := range rs {
			apis[r.GetApi().GetId()] = true
		}
		f.group = gid
	}
	var out []kindSection
	for _, k := range model.Kinds() {
		if k.Internal || k.Name == model.KindInstance {
			continue
		}
		var rs []*apigwv1.Resource
		var err error
		fields := k.New().ProtoReflect().Descriptor().Fields()
		switch {
		case group == nil:
			rs, err = listAll(ctx, g, c, k.Name, listFilter{name: f.name})
		case k.Name == model.KindGroup:
			if f.name == "" || strings.Contains(model.NameOf(group.GetGroup()), f.name) {
				rs = []*apigwv1.Resource{group}
			}
		case fields.ByName("group_id") != nil:
			rs, err = listAll(ctx, g, c, k.Name, listFilter{group: f.group, name: f.name})
		case fields.ByName("api_id") != nil:
			var all []*apigwv1.Resource
			all, err = listAll(ctx, g, c, k.Name, listFilter{name: f.name})
			for _, r := range all {
				if m, _ := model.Unwrap(r); apis[stringField(m, "api_id")] {
					rs = append(rs, r)
				}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k.Name, err)
		}
		if len(rs) > 0 {
			out = append(out, kindSection{kind: k.Name, rs: rs})
		}
	}
	return out, nil
}

func stringField(m proto.Message, name protoreflect.Name) string {
	r := m.ProtoReflect()
	fd := r.Descriptor().Fields().ByName(name)
	if fd == nil {
		return ""
	}
	return r.Get(fd).String()
}

// printSections writes what get all found: one table per kind (headed by
// the kind, like kubectl), or one YAML stream / JSON list / name list of
// every object.
func printSections(w io.Writer, format string, clean bool, secs []kindSection) error {
	var all []*apigwv1.Resource
	for _, s := range secs {
		for i := range s.rs {
			if clean {
				s.rs[i] = manifest.Clean(s.rs[i])
			}
		}
		all = append(all, s.rs...)
	}
	switch format {
	case outYAML, outJSON, outName:
		return printResources(w, kindAll, format, all, true)
	}
	if len(secs) == 0 {
		_, err := fmt.Fprintln(w, "No objects found.")
		return err
	}
	for i, s := range secs {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s:\n", s.kind)
		if err := printResources(w, s.kind, format, s.rs, true); err != nil {
			return err
		}
	}
	return nil
}
