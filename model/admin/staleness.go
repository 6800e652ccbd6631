package admin

import (
	"context"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/apigw/apigw/model/admin/storehdr"
)

// storeHeader sends the store headers (storehdr) of a read that reflects
// revision: reads are served from the watched view, which may be all apigw
// has while etcd has no quorum.
func (s *Server) storeHeader(ctx context.Context, revision int64) {
	ok, since := s.store.Connected()
	md := metadata.Pairs(storehdr.Connected, strconv.FormatBool(ok), storehdr.Revision, strconv.FormatInt(revision, 10))
	if !ok {
		md.Append(storehdr.Since, since.UTC().Format(time.RFC3339))
	}
	_ = grpc.SetHeader(ctx, md) // fails only outside a gRPC call
}
