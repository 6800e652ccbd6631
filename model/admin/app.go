package admin

import (
	"context"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// ResetAppSecret sets a new app secret (generated unless given) and returns
// the app with it; this and creation are the only times it is returned.
func (s *Server) ResetAppSecret(ctx context.Context, req *adminv1.ResetAppSecretRequest) (*adminv1.ResetAppSecretResponse, error) {
	var app *apigwv1.App
	var t0 *tx
	t, err := s.mutate(ctx, instanceOf(req.GetInstance()), false, func(t *tx) error {
		m, err := t.find(model.KindApp, req.GetAppId())
		if err != nil {
			return err
		}
		app = proto.Clone(m).(*apigwv1.App)
		app.AppSecret = req.GetAppSecret()
		if app.AppSecret == "" {
			app.AppSecret = t.s.secret(32)
		}
		t.reveal[app.AppSecret] = true
		t.stamp(app, m)
		t.stage(app, "")
		t0 = t
		return nil
	})
	if err != nil {
		return nil, s.toStatus(ctx, "reset app secret", err)
	}
	out := t0.output(app)
	stampOutput(out, t.revision)
	return &adminv1.ResetAppSecretResponse{App: out.GetApp()}, nil
}
