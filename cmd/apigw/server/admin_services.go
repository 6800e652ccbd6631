package server

import (
	"context"

	"google.golang.org/grpc"

	"github.com/apigw/apigw/internal/inproc"
	"github.com/apigw/apigw/model/admin"
	"github.com/apigw/apigw/openapisvc"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
)

// registerAdminServices registers the admin API's services on s: the admin
// port and the console serve the same ones. OpenAPIService imports and
// exports through the same admin server, called in process.
func registerAdminServices(_ context.Context, s *grpc.Server, d *deps) error {
	adm := admin.New(d.store, d.feed, d.status, d.log)
	adminv1.RegisterAdminServiceServer(s, adm)
	adminv1.RegisterOpenAPIServiceServer(s, openapisvc.New(adminv1.NewAdminServiceClient(inproc.New(&adminv1.AdminService_ServiceDesc, adm))))
	return nil
}

// maxRecv bounds one admin request.
func maxRecv(cfg *Config) grpc.ServerOption { return grpc.MaxRecvMsgSize(cfg.AdminMaxRequestBytes) }
