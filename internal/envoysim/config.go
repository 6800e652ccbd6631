package envoysim

import (
	"errors"
	"fmt"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/apigw/apigw/internal/protowalk"
)

// Config is the configuration an Envoy holds: the resources it accepted,
// by name. A Config is never modified once published.
type Config struct {
	Listeners map[string]*listenerv3.Listener
	Clusters  map[string]*clusterv3.Cluster
	Endpoints map[string]*endpointv3.ClusterLoadAssignment
	Routes    map[string]*routev3.RouteConfiguration
	Scopes    map[string]*routev3.ScopedRouteConfiguration
	Secrets   map[string]*tlsv3.Secret
	// Versions are the accepted version of each type URL.
	Versions map[string]string
}

func newConfig() *Config {
	return &Config{
		Listeners: map[string]*listenerv3.Listener{},
		Clusters:  map[string]*clusterv3.Cluster{},
		Endpoints: map[string]*endpointv3.ClusterLoadAssignment{},
		Routes:    map[string]*routev3.RouteConfiguration{},
		Scopes:    map[string]*routev3.ScopedRouteConfiguration{},
		Secrets:   map[string]*tlsv3.Secret{},
		Versions:  map[string]string{},
	}
}

// clone copies the maps (the resources are shared, never modified).
func (c *Config) clone() *Config {
	n := newConfig()
	copyMap(n.Listeners, c.Listeners)
	copyMap(n.Clusters, c.Clusters)
	copyMap(n.Endpoints, c.Endpoints)
	copyMap(n.Routes, c.Routes)
	copyMap(n.Scopes, c.Scopes)
	copyMap(n.Secrets, c.Secrets)
	copyMap(n.Versions, c.Versions)
	return n
}

func copyMap[V any](dst, src map[string]V) {
	for k, v := range src {
		dst[k] = v
	}
}

// Route returns the route with that name in any route configuration.
func (c *Config) Route(name string) *routev3.Route {
	for _, rc := range c.Routes {
		for _, vh := range rc.GetVirtualHosts() {
			for _, r := range vh.GetRoutes() {
				if r.GetName() == name {
					return r
				}
			}
		}
	}
	return nil
}

// HCMs returns every HTTP connection manager of the listeners, by
// listener and filter-chain name.
func (c *Config) HCMs() (map[string]*hcmv3.HttpConnectionManager, error) {
	out := map[string]*hcmv3.HttpConnectionManager{}
	for _, l := range c.Listeners {
		chains := l.GetFilterChains()
		if l.GetDefaultFilterChain() != nil {
			chains = append(chains[:len(chains):len(chains)], l.GetDefaultFilterChain())
		}
		for _, fc := range chains {
			h, err := chainHCM(fc)
			if err != nil {
				return nil, fmt.Errorf("listener %s: %w", l.GetName(), err)
			}
			if h != nil {
				out[l.GetName()+"/"+fc.GetName()] = h
			}
		}
	}
	return out, nil
}

// chainHCM returns the filter chain's HTTP connection manager, if any.
func chainHCM(fc *listenerv3.FilterChain) (*hcmv3.HttpConnectionManager, error) {
	for _, f := range fc.GetFilters() {
		if f.GetName() != "envoy.filters.network.http_connection_manager" {
			continue
		}
		h := &hcmv3.HttpConnectionManager{}
		if err := f.GetTypedConfig().UnmarshalTo(h); err != nil {
			return nil, fmt.Errorf("filter chain %s: %w", fc.GetName(), err)
		}
		return h, nil
	}
	return nil, nil
}

// typeOf maps a resource type URL to an empty message of that type.
func typeOf(typeURL string) (proto.Message, bool) {
	switch typeURL {
	case resourcev3.ListenerType:
		return &listenerv3.Listener{}, true
	case resourcev3.ClusterType:
		return &clusterv3.Cluster{}, true
	case resourcev3.EndpointType:
		return &endpointv3.ClusterLoadAssignment{}, true
	case resourcev3.RouteType:
		return &routev3.RouteConfiguration{}, true
	case resourcev3.ScopedRouteType:
		return &routev3.ScopedRouteConfiguration{}, true
	case resourcev3.SecretType:
		return &tlsv3.Secret{}, true
	}
	return nil, false
}

// ValidateDeep runs the PGV rules on m and on every message inside it,
// unpacking Any fields as Envoy does when it instantiates typed configs
// (the types must be linked in: an unknown type is an error).
func ValidateDeep(m proto.Message) error {
	var errs []error
	var walk func(m protoreflect.Message, path string)
	walk = func(m protoreflect.Message, path string) {
		if a, ok := m.Interface().(*anypb.Any); ok {
			inner, err := a.UnmarshalNew()
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %s: %w", path, a.GetTypeUrl(), err))
				return
			}
			walk(inner.ProtoReflect(), path)
			return
		}
		if fc, ok := m.Interface().(*routev3.FilterConfig); ok && fc.GetConfig() != nil && fc.GetConfig().GetTypeUrl() == "" {
			// A present but empty config enables a filter disabled in the
			// HCM (Envoy's PerFilterConfigs); there is nothing to unpack.
			return
		}
		if v, ok := m.Interface().(interface{ ValidateAll() error }); ok {
			if err := v.ValidateAll(); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", path, err))
			}
		}
		protowalk.Children(m, func(c protoreflect.Message, step string) { walk(c, path+step) })
	}
	walk(m.ProtoReflect(), string(m.ProtoReflect().Descriptor().Name()))
	return errors.Join(errs...)
}
