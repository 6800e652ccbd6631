package ratelimit

import (
	"errors"
	"time"
	"unicode/utf8"
	"unsafe"

	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/runtime/protoiface"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/ratelimit/counter"
	"github.com/apigw/apigw/ratelimit/quota"
)

// The gRPC service reads RateLimitRequests and writes RateLimitResponses
// in their wire form itself: decoding a request into messages costs an
// allocation per descriptor, entry and string, and encoding the answer's
// dynamic metadata (a Struct, a map) costs more than the rest of an
// over-limit answer. wireRequest and wireResponse are proto.Messages
// whose fast-path methods (protoiface.Methods) do the work, so that any
// gRPC codec built on proto.Marshal and proto.Unmarshal serves them;
// their reflection is that of an empty message of the type they stand
// for. The encoding is the message's (TestWireMatchesMessages).

// Field numbers of envoy.service.ratelimit.v3 and
// envoy.extensions.common.ratelimit.v3.
const (
	reqDomain      = 1
	reqDescriptors = 2
	reqHitsAddend  = 3

	descEntries        = 1
	descLimit          = 2 // RateLimitOverride (ignored)
	overrideMultiplier = 3 // RateLimitOverride.unit_multiplier, google.protobuf.UInt32Value
	descHitsAddend     = 3 // google.protobuf.UInt64Value
	descIsNegativeHits = 4

	entryKey   = 1
	entryValue = 2

	respOverallCode     = 1
	respStatuses        = 2
	respHeaders         = 3
	respRawBody         = 5
	respDynamicMetadata = 6

	fStatusCode         = 1
	fStatusCurrentLimit = 2
	fStatusRemaining    = 3
	fStatusReset        = 4

	limitRequestsPerUnit = 1
	limitUnit            = 2
	limitName            = 3
	limitUnitMultiplier  = 4

	headerKey   = 1
	headerValue = 2
)

// wireRequest is a RateLimitRequest read from its wire form: its own copy
// of the bytes, and the view whose strings point into them.
type wireRequest struct {
	buf  []byte
	view callView
	refl *wireReflect
}

var (
	emptyRequest  = (&rlsv3.RateLimitRequest{}).ProtoReflect()
	emptyResponse = (&rlsv3.RateLimitResponse{}).ProtoReflect()

	requestMethods = &protoiface.Methods{
		Flags:            protoiface.SupportUnmarshalDiscardUnknown,
		Unmarshal:        unmarshalRequest,
		CheckInitialized: initialized,
	}
	responseMethods = &protoiface.Methods{
		Flags:            protoiface.SupportMarshalDeterministic,
		Size:             sizeResponse,
		Marshal:          marshalResponse,
		CheckInitialized: initialized,
	}
)

func newWireRequest() *wireRequest {
	w := &wireRequest{}
	w.refl = &wireReflect{Message: emptyRequest, msg: w, methods: requestMethods}
	return w
}

func (w *wireRequest) ProtoReflect() protoreflect.Message { return w.refl }

// Reset empties the request (proto.Unmarshal resets first).
func (w *wireRequest) Reset() {
	w.buf = w.buf[:0]
	w.view.reset()
}

// wireReflect is the reflection of a wire message: an empty message's,
// but for the message itself and its fast-path methods.
type wireReflect struct {
	protoreflect.Message
	msg     protoreflect.ProtoMessage
	methods *protoiface.Methods
}

func (r *wireReflect) Interface() protoreflect.ProtoMessage { return r.msg }
func (r *wireReflect) ProtoMethods() *protoiface.Methods    { return r.methods }

func initialized(protoiface.CheckInitializedInput) (protoiface.CheckInitializedOutput, error) {
	return protoiface.CheckInitializedOutput{}, nil
}

var (
	errMalformed = errors.New("ratelimit: malformed RateLimitRequest")
	errUTF8      = errors.New("ratelimit: RateLimitRequest: string field contains invalid UTF-8")
)

func unmarshalRequest(in protoiface.UnmarshalInput) (protoiface.UnmarshalOutput, error) {
	w := in.Message.Interface().(*wireRequest)
	w.buf = append(w.buf[:0], in.Buf...)
	out := protoiface.UnmarshalOutput{Flags: protoiface.UnmarshalInitialized}
	return out, w.decode(w.buf)
}

// decode reads a RateLimitRequest as proto.Unmarshal would (the last of
// a repeated scalar wins, unknown fields are skipped, strings must be
// UTF-8) into w.view.
func (w *wireRequest) decode(b []byte) error {
	v := &w.view
	v.reset()
	for len(b) > 0 {
		num, typ, n := consumeTag(b)
		if n < 0 {
			return errMalformed
		}
		b = b[n:]
		switch {
		case num == reqDomain && typ == protowire.BytesType:
			var s string
			s, n = consumeString(b)
			if n >= 0 {
				v.domain = s
			}
		case num == reqDescriptors && typ == protowire.BytesType:
			var d []byte
			if d, n = protowire.ConsumeBytes(b); n >= 0 {
				if err := v.decodeDescriptor(d); err != nil {
					return err
				}
			}
		case num == reqHitsAddend && typ == protowire.VarintType:
			var x uint64
			x, n = protowire.ConsumeVarint(b)
			v.hits = uint32(x)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			if n == errUTF8Code {
				return errUTF8
			}
			return errMalformed
		}
		b = b[n:]
	}
	return nil
}

func (v *callView) decodeDescriptor(b []byte) error {
	d := descView{first: len(v.entries)}
	for len(b) > 0 {
		num, typ, n := consumeTag(b)
		if n < 0 {
			return errMalformed
		}
		b = b[n:]
		switch {
		case num == descEntries && typ == protowire.BytesType:
			var e []byte
			if e, n = protowire.ConsumeBytes(b); n >= 0 {
				if err := v.decodeEntry(e); err != nil {
					return err
				}
			}
		case num == descHitsAddend && typ == protowire.BytesType:
			var h []byte
			if h, n = protowire.ConsumeBytes(b); n >= 0 {
				d.hasHits = true
				if err := decodeUInt64Value(h, &d.hits); err != nil {
					return err
				}
			}
		case num == descLimit && typ == protowire.BytesType:
			// The override is ignored, but must be a valid message.
			var l []byte
			if l, n = protowire.ConsumeBytes(b); n >= 0 && !wellFormedOverride(l) {
				return errMalformed
			}
		case num == descIsNegativeHits && typ == protowire.VarintType:
			var x uint64
			x, n = protowire.ConsumeVarint(b)
			d.negative = x != 0
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return errMalformed
		}
		b = b[n:]
	}
	d.n = len(v.entries) - d.first
	v.descs = append(v.descs, d)
	return nil
}

func (v *callView) decodeEntry(b []byte) error {
	var e dataplane.RateLimitEntry
	for len(b) > 0 {
		num, typ, n := consumeTag(b)
		if n < 0 {
			return errMalformed
		}
		b = b[n:]
		switch {
		case num == entryKey && typ == protowire.BytesType:
			var s string
			if s, n = consumeString(b); n >= 0 {
				e.Key = s
			}
		case num == entryValue && typ == protowire.BytesType:
			var s string
			if s, n = consumeString(b); n >= 0 {
				e.Value = s
			}
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n == errUTF8Code {
			return errUTF8
		}
		if n < 0 {
			return errMalformed
		}
		b = b[n:]
	}
	v.entries = append(v.entries, e)
	return nil
}

func decodeUInt64Value(b []byte, out *uint64) error {
	for len(b) > 0 {
		num, typ, n := consumeTag(b)
		if n < 0 {
			return errMalformed
		}
		b = b[n:]
		if num == 1 && typ == protowire.VarintType {
			*out, n = protowire.ConsumeVarint(b)
		} else {
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return errMalformed
		}
		b = b[n:]
	}
	return nil
}

// consumeTag is protowire.ConsumeTag refusing field numbers out of range
// as proto.Unmarshal does.
func consumeTag(b []byte) (protowire.Number, protowire.Type, int) {
	num, typ, n := protowire.ConsumeTag(b)
	if n >= 0 && num > protowire.MaxValidNumber {
		return 0, 0, -1
	}
	return num, typ, n
}

// wellFormed reports whether b is a sequence of well-formed fields.
func wellFormed(b []byte) bool {
	for len(b) > 0 {
		num, typ, n := consumeTag(b)
		if n < 0 {
			return false
		}
		b = b[n:]
		if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
			return false
		}
		b = b[n:]
	}
	return true
}

// wellFormedOverride reports whether b is a RateLimitOverride that
// proto.Unmarshal accepts: well-formed fields, and a well-formed
// unit_multiplier message (UInt32Value holds only a varint, so nothing
// below it is parsed).
func wellFormedOverride(b []byte) bool {
	if !wellFormed(b) {
		return false
	}
	for len(b) > 0 {
		num, typ, n := consumeTag(b)
		b = b[n:]
		if num == overrideMultiplier && typ == protowire.BytesType {
			v, m := protowire.ConsumeBytes(b)
			if !wellFormed(v) {
				return false
			}
			b = b[m:]
			continue
		}
		b = b[protowire.ConsumeFieldValue(num, typ, b):]
	}
	return true
}

// errUTF8Code is consumeString's length for a string that is not UTF-8.
const errUTF8Code = -1000

// consumeString reads a string field's value as a string sharing b's
// memory (b is the request's own copy).
func consumeString(b []byte) (string, int) {
	v, n := protowire.ConsumeBytes(b)
	if n < 0 {
		return "", n
	}
	if !utf8.Valid(v) {
		return "", errUTF8Code
	}
	return unsafe.String(unsafe.SliceData(v), len(v)), n
}

// wireResponse is a RateLimitResponse in its wire form.
type wireResponse struct {
	b    []byte
	refl wireReflect
}

func newWireResponse(b []byte) *wireResponse {
	r := &wireResponse{b: b}
	r.refl = wireReflect{Message: emptyResponse, msg: r, methods: responseMethods}
	return r
}

func (r *wireResponse) ProtoReflect() protoreflect.Message { return &r.refl }

func sizeResponse(in protoiface.SizeInput) protoiface.SizeOutput {
	return protoiface.SizeOutput{Size: len(in.Message.Interface().(*wireResponse).b)}
}

func marshalResponse(in protoiface.MarshalInput) (protoiface.MarshalOutput, error) {
	return protoiface.MarshalOutput{Buf: append(in.Buf, in.Message.Interface().(*wireResponse).b...)}, nil
}

// okStatusWire is the status of a descriptor without a limit: {code: OK}.
var okStatusWire = appendBytesField(nil, respStatuses, protowire.AppendVarint(protowire.AppendTag(nil, fStatusCode, protowire.VarintType), uint64(1)))

// appendResponse appends the answer in sc as a RateLimitResponse, the
// encoding of toProto's message.
func (s *Service) appendResponse(b []byte, sc *scratch) []byte {
	a := &sc.answer
	code := rlsv3.RateLimitResponse_OK
	if a.over {
		code = rlsv3.RateLimitResponse_OVER_LIMIT
	}
	b = appendVarintField(b, respOverallCode, uint64(code))
	next := 0 // next check, in descriptor order
	for i := range sc.call.descs {
		for next < len(sc.checks) && sc.checks[next].idx < i {
			next++
		}
		if a.results == nil || next == len(sc.checks) || sc.checks[next].idx != i || sc.checks[next].unknown {
			b = append(b, okStatusWire...)
			continue
		}
		b = appendStatus(b, &sc.checks[next].limit, a.results[next])
	}
	if a.resp != nil {
		b = append(b, a.resp.contentTypeWire...)
		for i, h := range a.headers {
			if h.shared != nil {
				b = append(b, a.resp.headersWire[i]...)
			} else {
				b = appendHeaderField(b, h.key, h.value)
			}
		}
	}
	for _, h := range a.debug {
		b = appendHeaderField(b, h.Key, h.Value)
	}
	if a.resp != nil {
		if len(a.body) > 0 {
			b = appendBytesField(b, respRawBody, a.body)
		}
		b = append(b, a.resp.metaWire[a.meta]...)
	}
	return b
}

// appendStatus appends a limited descriptor's status (statusBlock.fill's
// message).
func appendStatus(b []byte, l *quota.Limit, r counter.Result) []byte {
	mult := sizeVarintField(uint64(uint32(l.Interval)))
	rl := sizeVarintField(uint64(requestsPerUnit(*l))) + sizeVarintField(uint64(unit(l.Unit))) + sizeStringField(l.Name) + 1 + protowire.SizeBytes(mult)
	secs, nanos := int64(r.Reset/time.Second), int64(int32(r.Reset%time.Second))
	dur := sizeVarintField(uint64(secs)) + sizeVarintField(uint64(nanos))
	rem := uint64(remaining(*l, r))
	st := sizeVarintField(uint64(statusCode(r))) + 1 + protowire.SizeBytes(rl) + sizeVarintField(rem) + 1 + protowire.SizeBytes(dur)

	b = protowire.AppendVarint(protowire.AppendTag(b, respStatuses, protowire.BytesType), uint64(st))
	b = appendVarintField(b, fStatusCode, uint64(statusCode(r)))
	b = protowire.AppendVarint(protowire.AppendTag(b, fStatusCurrentLimit, protowire.BytesType), uint64(rl))
	b = appendVarintField(b, limitRequestsPerUnit, uint64(requestsPerUnit(*l)))
	b = appendVarintField(b, limitUnit, uint64(unit(l.Unit)))
	if l.Name != "" {
		b = protowire.AppendString(protowire.AppendTag(b, limitName, protowire.BytesType), l.Name)
	}
	b = protowire.AppendVarint(protowire.AppendTag(b, limitUnitMultiplier, protowire.BytesType), uint64(mult))
	b = appendVarintField(b, 1, uint64(uint32(l.Interval)))
	b = appendVarintField(b, fStatusRemaining, rem)
	b = protowire.AppendVarint(protowire.AppendTag(b, fStatusReset, protowire.BytesType), uint64(dur))
	b = appendVarintField(b, 1, uint64(secs))
	return appendVarintField(b, 2, uint64(nanos))
}

// sizeVarintField is the size of a proto3 scalar field (absent when 0).
func sizeVarintField(v uint64) int {
	if v == 0 {
		return 0
	}
	return 1 + protowire.SizeVarint(v)
}

func sizeStringField(s string) int {
	if s == "" {
		return 0
	}
	return 1 + protowire.SizeBytes(len(s))
}

func appendVarintField(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), v)
}

func appendBytesField(b []byte, num protowire.Number, v []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), v)
}

// appendHeaderField appends a response_headers_to_add entry.
func appendHeaderField(b []byte, key, value string) []byte {
	n := sizeStringField(key) + sizeStringField(value)
	b = protowire.AppendVarint(protowire.AppendTag(b, respHeaders, protowire.BytesType), uint64(n))
	if key != "" {
		b = protowire.AppendString(protowire.AppendTag(b, headerKey, protowire.BytesType), key)
	}
	if value != "" {
		b = protowire.AppendString(protowire.AppendTag(b, headerValue, protowire.BytesType), value)
	}
	return b
}
