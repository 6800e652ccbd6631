package bench

import (
	"errors"
	"fmt"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
)

// What a client takes from a resource to follow the protocol as Envoy
// does: its name and the names it makes the client subscribe to.
//
// Most clients decode only that, with protowire (leanDecode): the names
// of clusters and listeners, the EDS service names of EDS clusters, the
// route configuration names of the listeners' HTTP connection managers
// (and whether they use scoped routes), the secret names of their TLS
// contexts, and the scopes' route configuration names; route
// configurations are read as a stream for their name (and the marker of
// the change being measured), endpoints and secrets are skipped. Decoding
// every resource into typed Envoy messages cost the clients more CPU than
// apigw used to serve them, on the same cores.
//
// A few clients (fullDecode) decode every resource of every type into its
// Envoy message, Any fields included, and validate it with Envoy's
// constraints (protoc-gen-validate), as Envoy does before it ACKs: a
// resource Envoy would reject makes them NACK, which fails the run.
type decoded struct {
	name string
	// eds is the EDS service name of an EDS cluster.
	eds string
	// rds and sds are the route configurations and secrets a listener
	// names; scoped says one of its HTTP connection managers uses
	// scoped routes.
	rds, sds []string
	scoped   bool
	// routeConfig is the route configuration of a scope.
	routeConfig string
}

// Field numbers of the Envoy messages leanDecode reads
// (TestLeanFieldNumbers checks them against the descriptors).
const (
	fClusterName          = 1
	fClusterType          = 2
	fClusterEdsConfig     = 3
	fEdsConfigServiceName = 2
	clusterTypeEDS        = 3 // Cluster.DiscoveryType EDS

	fListenerName         = 1
	fListenerFilterChains = 3
	fFilterChainFilters   = 3
	fFilterChainTransport = 6
	fFilterTypedConfig    = 4
	fTransportTypedConfig = 3
	fAnyTypeURL           = 1
	fAnyValue             = 2

	fHCMRds             = 3
	fHCMScopedRoutes    = 31
	fRdsRouteConfigName = 2

	fDownstreamTLSCommon  = 1
	fCommonTLSSdsCerts    = 6
	fSdsSecretConfigName  = 1
	fScopeName            = 1
	fScopeRouteConfigName = 2
)

const (
	hcmTypeURL           = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
	downstreamTLSTypeURL = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext"
)

// leanTypes are the types whose resources leanDecode reads (the client
// keeps their bytes); the others are streamed past.
func leanType(typeURL string) bool {
	return typeURL == resource.ClusterType || typeURL == resource.ListenerType || typeURL == resource.ScopedRouteType
}

// fields calls f with each field of a message: its number, wire type, and
// its bytes (length-delimited) or value (varint).
func fields(b []byte, f func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if err := f(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}

// bytesField calls f with each length-delimited field num of a message.
func bytesField(b []byte, num protowire.Number, f func(v []byte) error) error {
	return fields(b, func(n protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if n == num && typ == protowire.BytesType {
			return f(v)
		}
		return nil
	})
}

// leanDecode reads the names a resource of a small type holds.
func leanDecode(typeURL string, b []byte) (decoded, error) {
	var d decoded
	switch typeURL {
	case resource.ClusterType:
		eds := false
		var service string
		err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
			switch {
			case num == fClusterName && typ == protowire.BytesType:
				d.name = string(v)
			case num == fClusterType && typ == protowire.VarintType:
				eds = x == clusterTypeEDS
			case num == fClusterEdsConfig && typ == protowire.BytesType:
				return bytesField(v, fEdsConfigServiceName, func(s []byte) error { service = string(s); return nil })
			}
			return nil
		})
		if eds {
			d.eds = service
			if d.eds == "" {
				d.eds = d.name
			}
		}
		return d, err
	case resource.ListenerType:
		err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
			switch {
			case num == fListenerName && typ == protowire.BytesType:
				d.name = string(v)
			case num == fListenerFilterChains && typ == protowire.BytesType:
				return leanFilterChain(v, &d)
			}
			return nil
		})
		return d, err
	case resource.ScopedRouteType:
		err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
			switch {
			case num == fScopeName && typ == protowire.BytesType:
				d.name = string(v)
			case num == fScopeRouteConfigName && typ == protowire.BytesType:
				d.routeConfig = string(v)
			}
			return nil
		})
		return d, err
	}
	return d, fmt.Errorf("no lean decoding of %s", typeURL)
}

// leanAny returns the type URL and value of an Any.
func leanAny(b []byte) (typeURL string, value []byte, err error) {
	err = fields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch {
		case num == fAnyTypeURL && typ == protowire.BytesType:
			typeURL = string(v)
		case num == fAnyValue && typ == protowire.BytesType:
			value = v
		}
		return nil
	})
	return typeURL, value, err
}

// leanFilterChain reads the HTTP connection managers' route
// configurations and the TLS context's secrets of a filter chain.
func leanFilterChain(b []byte, d *decoded) error {
	return fields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case fFilterChainFilters:
			return bytesField(v, fFilterTypedConfig, func(anyb []byte) error {
				url, hcm, err := leanAny(anyb)
				if err != nil || url != hcmTypeURL {
					return err
				}
				return fields(hcm, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
					switch {
					case num == fHCMScopedRoutes && typ == protowire.BytesType:
						d.scoped = true
					case num == fHCMRds && typ == protowire.BytesType:
						return bytesField(v, fRdsRouteConfigName, func(s []byte) error {
							if len(s) > 0 {
								d.rds = append(d.rds, string(s))
							}
							return nil
						})
					}
					return nil
				})
			})
		case fFilterChainTransport:
			return bytesField(v, fTransportTypedConfig, func(anyb []byte) error {
				url, tls, err := leanAny(anyb)
				if err != nil || url != downstreamTLSTypeURL {
					return err
				}
				return bytesField(tls, fDownstreamTLSCommon, func(common []byte) error {
					return bytesField(common, fCommonTLSSdsCerts, func(sds []byte) error {
						return bytesField(sds, fSdsSecretConfigName, func(s []byte) error {
							d.sds = append(d.sds, string(s))
							return nil
						})
					})
				})
			})
		}
		return nil
	})
}

// fullDecode decodes a resource into its Envoy message, with every Any in
// it, and validates them all.
func fullDecode(typeURL string, b []byte) (decoded, error) {
	var d decoded
	var m proto.Message
	switch typeURL {
	case resource.ClusterType:
		m = &clusterv3.Cluster{}
	case resource.ListenerType:
		m = &listenerv3.Listener{}
	case resource.ScopedRouteType:
		m = &routev3.ScopedRouteConfiguration{}
	case resource.RouteType:
		m = &routev3.RouteConfiguration{}
	case resource.EndpointType:
		m = &endpointv3.ClusterLoadAssignment{}
	case resource.SecretType:
		m = &tlsv3.Secret{}
	default:
		return d, fmt.Errorf("unknown type %s", typeURL)
	}
	if err := proto.Unmarshal(b, m); err != nil {
		return d, err
	}
	if err := validateDeep(m); err != nil {
		return d, err
	}
	switch m := m.(type) {
	case *clusterv3.Cluster:
		d.name = m.Name
		if m.GetType() == clusterv3.Cluster_EDS {
			d.eds = m.GetEdsClusterConfig().GetServiceName()
			if d.eds == "" {
				d.eds = m.Name
			}
		}
	case *listenerv3.Listener:
		d.name = m.Name
		for _, fc := range m.FilterChains {
			for _, f := range fc.Filters {
				h := &hcmv3.HttpConnectionManager{}
				if !f.GetTypedConfig().MessageIs(h) {
					continue
				}
				if err := f.GetTypedConfig().UnmarshalTo(h); err != nil {
					return d, err
				}
				if h.GetScopedRoutes() != nil {
					d.scoped = true
				} else if n := h.GetRds().GetRouteConfigName(); n != "" {
					d.rds = append(d.rds, n)
				}
			}
			if ts := fc.GetTransportSocket().GetTypedConfig(); ts != nil {
				ctx := &tlsv3.DownstreamTlsContext{}
				if !ts.MessageIs(ctx) {
					continue
				}
				if err := ts.UnmarshalTo(ctx); err != nil {
					return d, err
				}
				for _, c := range ctx.GetCommonTlsContext().GetTlsCertificateSdsSecretConfigs() {
					d.sds = append(d.sds, c.Name)
				}
			}
		}
	case *routev3.ScopedRouteConfiguration:
		d.name, d.routeConfig = m.Name, m.RouteConfigurationName
	case *routev3.RouteConfiguration:
		d.name = m.Name
	case *endpointv3.ClusterLoadAssignment:
		d.name = m.ClusterName
	case *tlsv3.Secret:
		d.name = m.Name
	}
	return d, nil
}

// validateDeep validates a message with its protoc-gen-validate rules and
// every Any it holds, at any depth, decoded by type (a type this binary
// does not know is an error: apigw's translator, linked into the
// benchmark, registers every type it produces).
func validateDeep(m proto.Message) error {
	if v, ok := m.(interface{ ValidateAll() error }); ok {
		if err := v.ValidateAll(); err != nil {
			return err
		}
	}
	var err error
	var walk func(protoreflect.Message)
	walk = func(pm protoreflect.Message) {
		pm.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			if fd.Kind() != protoreflect.MessageKind && fd.Kind() != protoreflect.GroupKind {
				return true
			}
			visit := func(x protoreflect.Message) bool {
				if a, ok := x.Interface().(*anypb.Any); ok {
					inner, e := a.UnmarshalNew()
					if e == nil {
						e = validateDeep(inner)
					}
					if e != nil {
						err = fmt.Errorf("%s (%s): %w", fd.FullName(), a.TypeUrl, e)
						return false
					}
					return true
				}
				walk(x)
				return err == nil
			}
			switch {
			case fd.IsList():
				l := v.List()
				for i := range l.Len() {
					if !visit(l.Get(i).Message()) {
						return false
					}
				}
			case fd.IsMap():
				if fd.MapValue().Kind() != protoreflect.MessageKind {
					return true
				}
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool { return visit(mv.Message()) })
			default:
				return visit(v.Message())
			}
			return err == nil
		})
	}
	walk(m.ProtoReflect())
	return err
}

var errNoName = errors.New("a resource without a name")
