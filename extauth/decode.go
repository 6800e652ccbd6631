package extauth

import (
	"unicode/utf8"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// decodeCheckRequest reads the CheckRequest Envoy sends into r (which
// must be empty) without protobuf's reflection: decoding the header and
// context-extension maps through reflection costs more than the rest of
// an allowed check. It knows the fields Envoy fills for an HTTP request
// (peers with socket addresses, the request's time, its HTTP attributes
// and headers, as a map or as raw header values, context extensions; the
// metadata contexts and TLS session go to protobuf on their own) and reports false on anything else
// (another field, a field repeated where protobuf would merge, invalid
// UTF-8 in a string, malformed wire data), and the caller then decodes
// the message with protobuf instead. What it returns is proto.Equal to
// protobuf's result (FuzzDecodeCheckRequest).
func decodeCheckRequest(b []byte, r *authv3.CheckRequest) bool {
	for len(b) > 0 {
		num, typ, v, rest, ok := next(b)
		if !ok || num != 1 || typ != protowire.BytesType || r.Attributes != nil {
			return false
		}
		r.Attributes = &authv3.AttributeContext{}
		if !decodeAttributes(v, r.Attributes) {
			return false
		}
		b = rest
	}
	return true
}

func decodeAttributes(b []byte, a *authv3.AttributeContext) bool {
	for len(b) > 0 {
		num, typ, v, rest, ok := next(b)
		if !ok || typ != protowire.BytesType {
			return false
		}
		switch {
		case num == 1 && a.Source == nil:
			a.Source = &authv3.AttributeContext_Peer{}
			ok = decodePeer(v, a.Source)
		case num == 2 && a.Destination == nil:
			a.Destination = &authv3.AttributeContext_Peer{}
			ok = decodePeer(v, a.Destination)
		case num == 4 && a.Request == nil:
			a.Request = &authv3.AttributeContext_Request{}
			ok = decodeRequest(v, a.Request)
		case num == 10:
			if a.ContextExtensions == nil {
				a.ContextExtensions = make(map[string]string, 4)
			}
			ok = decodeMapEntry(v, a.ContextExtensions)
		case num == 11 && a.MetadataContext == nil:
			a.MetadataContext = &corev3.Metadata{}
			ok = sub(v, a.MetadataContext)
		case num == 12 && a.TlsSession == nil:
			a.TlsSession = &authv3.AttributeContext_TLSSession{}
			ok = sub(v, a.TlsSession)
		case num == 13 && a.RouteMetadataContext == nil:
			a.RouteMetadataContext = &corev3.Metadata{}
			ok = sub(v, a.RouteMetadataContext)
		default:
			ok = false
		}
		if !ok {
			return false
		}
		b = rest
	}
	return true
}

func decodePeer(b []byte, p *authv3.AttributeContext_Peer) bool {
	for len(b) > 0 {
		num, typ, v, rest, ok := next(b)
		if !ok || typ != protowire.BytesType {
			return false
		}
		switch num {
		case 1:
			if p.Address != nil {
				return false
			}
			p.Address = &corev3.Address{}
			ok = decodeAddress(v, p.Address)
		case 2:
			ok = str(v, &p.Service)
		case 3:
			if p.Labels == nil {
				p.Labels = map[string]string{}
			}
			ok = decodeMapEntry(v, p.Labels)
		case 4:
			ok = str(v, &p.Principal)
		case 5:
			ok = str(v, &p.Certificate)
		default:
			ok = false
		}
		if !ok {
			return false
		}
		b = rest
	}
	return true
}

// decodeAddress reads an Address holding a socket address.
func decodeAddress(b []byte, a *corev3.Address) bool {
	for len(b) > 0 {
		num, typ, v, rest, ok := next(b)
		if !ok || num != 1 || typ != protowire.BytesType || a.Address != nil {
			return false
		}
		sa := &corev3.SocketAddress{}
		a.Address = &corev3.Address_SocketAddress{SocketAddress: sa}
		if !decodeSocketAddress(v, sa) {
			return false
		}
		b = rest
	}
	return true
}

func decodeSocketAddress(b []byte, sa *corev3.SocketAddress) bool {
	for len(b) > 0 {
		num, typ, v, rest, ok := next(b)
		if !ok {
			return false
		}
		switch {
		case num == 1 && typ == protowire.VarintType:
			n, _ := protowire.ConsumeVarint(v)
			sa.Protocol = corev3.SocketAddress_Protocol(int32(n))
		case num == 2 && typ == protowire.BytesType:
			ok = str(v, &sa.Address)
		case num == 3 && typ == protowire.VarintType:
			n, _ := protowire.ConsumeVarint(v)
			sa.PortSpecifier = &corev3.SocketAddress_PortValue{PortValue: uint32(n)}
		default:
			ok = false
		}
		if !ok {
			return false
		}
		b = rest
	}
	return true
}

func decodeRequest(b []byte, r *authv3.AttributeContext_Request) bool {
	for len(b) > 0 {
		num, typ, v, rest, ok := next(b)
		if !ok || typ != protowire.BytesType {
			return false
		}
		switch {
		case num == 1 && r.Time == nil:
			r.Time = &timestamppb.Timestamp{}
			ok = decodeTimestamp(v, r.Time)
		case num == 2 && r.Http == nil:
			r.Http = &authv3.AttributeContext_HttpRequest{}
			ok = decodeHTTP(v, r.Http)
		default:
			ok = false
		}
		if !ok {
			return false
		}
		b = rest
	}
	return true
}

func decodeTimestamp(b []byte, t *timestamppb.Timestamp) bool {
	for len(b) > 0 {
		num, typ, v, rest, ok := next(b)
		if !ok || typ != protowire.VarintType {
			return false
		}
		n, _ := protowire.ConsumeVarint(v)
		switch num {
		case 1:
			t.Seconds = int64(n)
		case 2:
			t.Nanos = int32(n)
		default:
			return false
		}
		b = rest
	}
	return true
}

func decodeHTTP(b []byte, h *authv3.AttributeContext_HttpRequest) bool {
	for len(b) > 0 {
		num, typ, v, rest, ok := next(b)
		if !ok {
			return false
		}
		if num == 9 {
			if typ != protowire.VarintType {
				return false
			}
			n, _ := protowire.ConsumeVarint(v)
			h.Size = int64(n)
			b = rest
			continue
		}
		if typ != protowire.BytesType {
			return false
		}
		switch num {
		case 1:
			ok = str(v, &h.Id)
		case 2:
			ok = str(v, &h.Method)
		case 3:
			if h.Headers == nil {
				h.Headers = make(map[string]string, 16)
			}
			ok = decodeMapEntry(v, h.Headers)
		case 4:
			ok = str(v, &h.Path)
		case 5:
			ok = str(v, &h.Host)
		case 6:
			ok = str(v, &h.Scheme)
		case 7:
			ok = str(v, &h.Query)
		case 8:
			ok = str(v, &h.Fragment)
		case 10:
			ok = str(v, &h.Protocol)
		case 11:
			ok = str(v, &h.Body)
		case 12:
			h.RawBody = append([]byte{}, v...)
		case 13:
			if h.HeaderMap != nil {
				return false
			}
			h.HeaderMap = &corev3.HeaderMap{Headers: make([]*corev3.HeaderValue, 0, 16)}
			ok = decodeHeaderMap(v, h.HeaderMap)
		default:
			ok = false
		}
		if !ok {
			return false
		}
		b = rest
	}
	return true
}

// decodeHeaderMap reads the headers Envoy sends with encode_raw_headers.
func decodeHeaderMap(b []byte, m *corev3.HeaderMap) bool {
	for len(b) > 0 {
		num, typ, v, rest, ok := next(b)
		if !ok || num != 1 || typ != protowire.BytesType {
			return false
		}
		hv := &corev3.HeaderValue{}
		if !decodeHeaderValue(v, hv) {
			return false
		}
		m.Headers = append(m.Headers, hv)
		b = rest
	}
	return true
}

func decodeHeaderValue(b []byte, hv *corev3.HeaderValue) bool {
	for len(b) > 0 {
		num, typ, v, rest, ok := next(b)
		if !ok || typ != protowire.BytesType {
			return false
		}
		switch num {
		case 1:
			ok = str(v, &hv.Key)
		case 2:
			ok = str(v, &hv.Value)
		case 3:
			hv.RawValue = append([]byte{}, v...)
		default:
			ok = false
		}
		if !ok {
			return false
		}
		b = rest
	}
	return true
}

// decodeMapEntry reads one entry of a map<string, string> into m (a
// missing key or value is empty; a later entry replaces an earlier one).
func decodeMapEntry(b []byte, m map[string]string) bool {
	var k, val string
	for len(b) > 0 {
		num, typ, v, rest, ok := next(b)
		if !ok || typ != protowire.BytesType {
			return false
		}
		switch num {
		case 1:
			ok = str(v, &k)
		case 2:
			ok = str(v, &val)
		default:
			ok = false
		}
		if !ok {
			return false
		}
		b = rest
	}
	m[k] = val
	return true
}

// sub decodes a message the fast path does not read itself (Envoy sends
// the metadata contexts, empty unless filters or the route set metadata)
// with protobuf.
func sub(v []byte, m proto.Message) bool {
	return len(v) == 0 || proto.Unmarshal(v, m) == nil
}

// str stores a string field, refusing invalid UTF-8 as protobuf does.
func str(v []byte, dst *string) bool {
	if !utf8.Valid(v) {
		return false
	}
	*dst = string(v)
	return true
}

// next reads a message's next field: its number, type and value (the
// payload of a length-delimited field, the varint's bytes of a varint
// field) and the rest of the message. It reports false on malformed data
// and on a group or fixed-width field (none of the fields decoded is one).
func next(b []byte) (protowire.Number, protowire.Type, []byte, []byte, bool) {
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 {
		return 0, 0, nil, nil, false
	}
	b = b[n:]
	switch typ {
	case protowire.BytesType:
		v, m := protowire.ConsumeBytes(b)
		if m < 0 {
			return 0, 0, nil, nil, false
		}
		return num, typ, v, b[m:], true
	case protowire.VarintType:
		_, m := protowire.ConsumeVarint(b)
		if m < 0 {
			return 0, 0, nil, nil, false
		}
		return num, typ, b[:m], b[m:], true
	}
	return 0, 0, nil, nil, false
}

// checkRequestFields is whether the generated messages have the fields
// decodeCheckRequest reads, under the numbers and kinds it reads them
// with; when go-control-plane's protos differ, requests are decoded by
// protobuf.
var checkRequestFields = func() bool {
	want := []struct {
		msg    protoreflect.MessageDescriptor
		fields map[protowire.Number]string
	}{
		{(&authv3.CheckRequest{}).ProtoReflect().Descriptor(), map[protowire.Number]string{1: "attributes"}},
		{(&authv3.AttributeContext{}).ProtoReflect().Descriptor(), map[protowire.Number]string{1: "source", 2: "destination", 4: "request", 10: "context_extensions",
			11: "metadata_context", 12: "tls_session", 13: "route_metadata_context"}},
		{(&authv3.AttributeContext_Peer{}).ProtoReflect().Descriptor(), map[protowire.Number]string{1: "address", 2: "service", 3: "labels", 4: "principal", 5: "certificate"}},
		{(&corev3.Address{}).ProtoReflect().Descriptor(), map[protowire.Number]string{1: "socket_address"}},
		{(&corev3.SocketAddress{}).ProtoReflect().Descriptor(), map[protowire.Number]string{1: "protocol", 2: "address", 3: "port_value"}},
		{(&authv3.AttributeContext_Request{}).ProtoReflect().Descriptor(), map[protowire.Number]string{1: "time", 2: "http"}},
		{(&authv3.AttributeContext_HttpRequest{}).ProtoReflect().Descriptor(), map[protowire.Number]string{
			1: "id", 2: "method", 3: "headers", 4: "path", 5: "host", 6: "scheme", 7: "query", 8: "fragment", 9: "size", 10: "protocol", 11: "body", 12: "raw_body", 13: "header_map"}},
		{(&corev3.HeaderMap{}).ProtoReflect().Descriptor(), map[protowire.Number]string{1: "headers"}},
		{(&corev3.HeaderValue{}).ProtoReflect().Descriptor(), map[protowire.Number]string{1: "key", 2: "value", 3: "raw_value"}},
	}
	for _, w := range want {
		for num, name := range w.fields {
			f := w.msg.Fields().ByNumber(num)
			if f == nil || string(f.Name()) != name {
				return false
			}
		}
	}
	return true
}()
