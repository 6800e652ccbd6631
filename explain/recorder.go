package explain

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// recorder passes the calls of a gRPC service through and keeps the last
// request and response.
type recorder struct {
	conn      grpc.ClientConnInterface
	mu        sync.Mutex
	req, resp proto.Message
}

func (r *recorder) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	err := r.conn.Invoke(ctx, method, args, reply, opts...)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.req = proto.Clone(args.(proto.Message))
	if err == nil {
		r.resp = proto.Clone(reply.(proto.Message))
	}
	return err
}

func (r *recorder) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	return r.conn.NewStream(ctx, desc, method, opts...)
}

func (r *recorder) last() (proto.Message, proto.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.req, r.resp
}

// capture is the upstream of an explained request: it keeps the request
// the backend would receive and answers 200 with an empty body, without
// sending anything.
type capture struct {
	mu   sync.Mutex
	req  *http.Request
	body []byte
}

func (c *capture) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		body = b
		r.Body.Close()
	}
	c.mu.Lock()
	c.req, c.body = r, body
	c.mu.Unlock()
	return &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(nil)), Request: r}, nil
}

func (c *capture) sent() (*http.Request, []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.req, c.body
}
