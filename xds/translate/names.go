package translate

import (
	"strconv"
	"strings"

	"github.com/apigw/apigw/dataplane"
)

// Resource names. They are deterministic and hierarchical so that goldens,
// config_dump output and status reports stay stable (docs/xds.md lists
// them).
const (
	// ListenerHTTP and ListenerHTTPS name the two listeners.
	ListenerHTTP  = "apigw.http"
	ListenerHTTPS = "apigw.https"
	// RouteHTTP is the RouteConfiguration of the HTTP listener in single
	// mode (every group), and the name of its scoped routes in scoped mode.
	RouteHTTP = "apigw.http"
	// ClusterExtAuthz and ClusterRateLimit are the clusters of apigw's own
	// request-time services.
	ClusterExtAuthz  = "apigw.extauth"
	ClusterRateLimit = "apigw.ratelimit"
	// metadataNamespace holds the route metadata describing the API.
	metadataNamespace = dataplane.AccessLogRouteNamespace
)

// RouteHTTPGroup is a group's RouteConfiguration on the HTTP listener in
// scoped mode.
func RouteHTTPGroup(groupID string) string { return "apigw.http." + groupID }

// RouteHTTPAppRoute is the RouteConfiguration of the gateway addresses
// (config.default_group_hosts) with app_route, in scoped mode.
const RouteHTTPAppRoute = "apigw.approute.http"

// appRouteVhostName names the virtual host of the gateway addresses with
// app_route, and appRouteCatchAllName its last route.
const (
	appRouteVhostName    = "approute"
	appRouteCatchAllName = "approute.catchall"
)

// ScopeName names the routing scope of one host in scoped mode.
func ScopeName(domain string) string { return "apigw.scope." + domain }

// RouteHTTPS is the RouteConfiguration of a group's HTTPS filter chains.
func RouteHTTPS(groupID string) string { return "apigw.https." + groupID }

// ListenerHTTPPort and ListenerHTTPSPort name the listeners of custom
// inbound ports.
func ListenerHTTPPort(port uint32) string  { return "apigw.http:" + itoa(port) }
func ListenerHTTPSPort(port uint32) string { return "apigw.https:" + itoa(port) }

// RouteHTTPPort is the RouteConfiguration of a custom HTTP port (the
// domains bound to it, of every group).
func RouteHTTPPort(port uint32) string { return "apigw.http:" + itoa(port) }

// RouteHTTPSPort is the RouteConfiguration of a group's HTTPS filter
// chains on a custom HTTPS port.
func RouteHTTPSPort(groupID string, port uint32) string {
	return "apigw.https:" + itoa(port) + "." + groupID
}

func vhostName(groupID string) string { return "group." + groupID }

// redirectVhostName names the virtual host of a group's domains that
// redirect HTTP to HTTPS on port.
func redirectVhostName(groupID string, port uint32) string {
	return "group." + groupID + ".https-redirect." + itoa(port)
}

func fallbackRouteName(groupID string) string { return "group." + groupID + ".fallback" }

func filterChainName(domain string) string { return "domain." + domain }

// routeName names a route of a publication: api.<id>.<env>[.<role>][.<n>]
// where role is "policy.<name>", "preflight" or "protocol".
func routeName(apiID, envName, role string, variant int) string {
	var b strings.Builder
	b.WriteString("api.")
	b.WriteString(apiID)
	b.WriteString(".")
	b.WriteString(envName)
	if role != "" {
		b.WriteString(".")
		b.WriteString(role)
	}
	if variant > 0 {
		b.WriteString(".")
		b.WriteString(strconv.Itoa(variant))
	}
	return b.String()
}

func itoa[T ~int | ~int32 | ~uint32 | ~int64](n T) string { return strconv.FormatInt(int64(n), 10) }

func backendClusterName(scheme, host string, port uint32) string {
	return "backend." + scheme + "." + host + "." + strconv.FormatUint(uint64(port), 10)
}

func channelClusterName(channelID, scheme string) string {
	return dataplane.ChannelCluster(channelID, scheme)
}

// groupClusterName names the cluster of one member group of a channel;
// the group's name is hex-encoded (it may hold CJK and dots).
func groupClusterName(channelID, group, scheme string) string {
	return dataplane.MemberGroupCluster(channelID, group, scheme)
}

func certSecretName(certID string) string { return "cert." + certID }

func caSecretName(certID string) string { return "ca." + certID }
