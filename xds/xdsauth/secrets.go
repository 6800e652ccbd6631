package xdsauth

import (
	"fmt"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// withholdKeys returns a response without the Secret resources that carry
// key material, and the names of those removed. A response with nothing to
// remove is returned as is (never modified: servers share them between
// streams). A message it cannot inspect is an error: nothing is sent
// rather than something unchecked.
func withholdKeys(m any) (any, []string, error) {
	switch r := m.(type) {
	case *discoveryv3.DiscoveryResponse:
		var keep []*anypb.Any
		var withheld []string
		for i, res := range r.GetResources() {
			if name, secret := keyed(res); secret {
				if withheld == nil {
					keep = append(keep, r.GetResources()[:i]...)
				}
				withheld = append(withheld, name)
			} else if withheld != nil {
				keep = append(keep, res)
			}
		}
		if withheld == nil {
			return r, nil, nil
		}
		out := proto.Clone(r).(*discoveryv3.DiscoveryResponse)
		out.Resources = keep
		return out, withheld, nil
	case *discoveryv3.DeltaDiscoveryResponse:
		var keep []*discoveryv3.Resource
		var withheld []string
		for i, res := range r.GetResources() {
			if _, secret := keyed(res.GetResource()); secret {
				if withheld == nil {
					keep = append(keep, r.GetResources()[:i]...)
				}
				withheld = append(withheld, res.GetName())
			} else if withheld != nil {
				keep = append(keep, res)
			}
		}
		if withheld == nil {
			return r, nil, nil
		}
		out := proto.Clone(r).(*discoveryv3.DeltaDiscoveryResponse)
		out.Resources = keep
		return out, withheld, nil
	case interface{ Response() proto.Message }:
		// A response encoded once and shared between streams (the xDS
		// server's): inspect what it wraps, send it as it is when nothing
		// is withheld, else send the filtered copy.
		out, withheld, err := withholdKeys(r.Response())
		if err != nil || withheld == nil {
			return m, nil, err
		}
		return out, withheld, nil
	default:
		return nil, nil, fmt.Errorf("cannot inspect an xDS response of type %T", m)
	}
}

// keyed reports whether a resource is a Secret with key material: anything
// but a validation context (a CA bundle). A Secret that does not decode is
// treated as keyed.
func keyed(res *anypb.Any) (name string, ok bool) {
	if res.GetTypeUrl() != resourcev3.SecretType {
		return "", false
	}
	s := &tlsv3.Secret{}
	if err := res.UnmarshalTo(s); err != nil {
		return "(undecodable)", true
	}
	return s.GetName(), s.GetValidationContext() == nil
}
