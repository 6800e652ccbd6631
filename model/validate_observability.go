package model

import (
	"net"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/apigw/apigw/dataplane"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Access-log custom field locations.
const (
	LogFieldHeader = "header"
	LogFieldQuery  = "query"
)

// validateAccessLog checks the instance's access-log settings: every field
// must be one Envoy can render, so that nothing accepted is left out of the
// lines later.
func validateAccessLog(c checker, a *apigwv1.AccessLogConfig) {
	if a == nil {
		return
	}
	if p := a.Path; p != "" && p != "/dev/stdout" && p != "/dev/stderr" {
		if !path.IsAbs(p) || path.Clean(p) != p || HasControl(p) {
			c.add("path", "must be empty (Envoy's standard output), /dev/stdout, /dev/stderr or a clean absolute file path")
		}
	}
	known := dataplane.AccessLogFields()
	seen := map[string]bool{}
	for i, f := range a.Fields {
		if !slices.ContainsFunc(known, func(k dataplane.AccessLogField) bool { return k.Name == f }) {
			names := make([]string, len(known))
			for j, k := range known {
				names[j] = k.Name
			}
			c.add("fields["+strconv.Itoa(i)+"]", "unknown field %q (one of %s)", Excerpt(f), strings.Join(names, ", "))
		} else if seen[f] {
			c.add("fields["+strconv.Itoa(i)+"]", "%q is listed twice", f)
		}
		seen[f] = true
	}
	if n := len(a.CustomFields); n > dataplane.AccessLogMaxCustomFields {
		c.add("custom_fields", "at most %d fields (got %d)", dataplane.AccessLogMaxCustomFields, n)
	}
	total := 0
	for i, f := range a.CustomFields {
		fc := c.idx("custom_fields", i)
		switch f.Location {
		case LogFieldHeader:
			if !ValidHeaderName(f.Name) {
				fc.add("name", "must be an HTTP header name")
			}
		case LogFieldQuery:
			if f.Name == "" || len(f.Name) > 255 || strings.ContainsAny(f.Name, "%()&=#? ") || HasControl(f.Name) {
				fc.add("name", "must be a query parameter name (1-255 characters, none of %%()&=#? or spaces)")
			}
		case "cookie":
			fc.add("location", "cookies cannot be logged: Envoy's access-log formatter reads headers and query parameters only")
		default:
			fc.add("location", "must be header or query")
		}
		total += len(f.Name)
	}
	if total > dataplane.AccessLogMaxCustomNameBytes {
		c.add("custom_fields", "the names take %d bytes, at most %d", total, dataplane.AccessLogMaxCustomNameBytes)
	}
}

// validateTracing checks the instance's tracing settings.
func validateTracing(c checker, t *apigwv1.TracingConfig) {
	if t == nil {
		return
	}
	if p := t.SamplingPercentage; p < 0 || p > 100 || p != p {
		c.add("sampling_percentage", "must be between 0 and 100")
	}
	if t.Collector != "" {
		host, port, err := net.SplitHostPort(t.Collector)
		n, perr := strconv.Atoi(port)
		if err != nil || perr != nil || n < 1 || n > 65535 || (net.ParseIP(host) == nil && !ValidDomain(strings.ToLower(host), false) && host != "localhost") {
			c.add("collector", "must be host:port of an OTLP/gRPC collector")
		}
	} else if t.Enabled {
		c.add("collector", "is required when tracing is enabled")
	}
	if t.ServiceName != "" && (len(t.ServiceName) > 128 || HasControl(t.ServiceName)) {
		c.add("service_name", "must be at most 128 characters without control characters")
	}
}
