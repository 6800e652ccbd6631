package server

import (
	"google.golang.org/grpc"

	"github.com/apigw/apigw/model/admin"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
)

// services returns the gRPC components enabled by the configuration.
func services(d *deps) ([]service, error) {
	var out []service
	if d.cfg.Has(CompAdmin) {
		opts, err := adminServerOptions(d.cfg)
		if err != nil {
			return nil, err
		}
		out = append(out, service{name: CompAdmin, addr: d.cfg.AdminAddr, opts: opts, register: func(s *grpc.Server) error {
			adminv1.RegisterAdminServiceServer(s, admin.New(d.store, d.feed, d.status, d.log))
			return nil
		}})
	}
	return out, nil
}
