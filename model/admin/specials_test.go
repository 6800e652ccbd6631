package admin_test

import (
	"testing"

	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// A throttling special names an app by its opaque id, as APIG exports do:
// it is stored verbatim even when no such app exists yet, stays the same
// when the app is created with that id, and does not pin the app (the app
// can be deleted; the special stays, inert, as before the app existed).
// An app given by name is still resolved to its id when it exists.
func TestThrottleSpecialsMayNameAppsThatDoNotExistYet(t *testing.T) {
	e := setup(t)
	const appID = "a7c1f0e2b3d44e5f8a9b0c1d2e3f4a5b"
	th := e.create(t, &apigwv1.Throttle{Name: "basic", ApiCallLimits: 100, TimeInterval: 1, TimeUnit: "MINUTE",
		Specials: []*apigwv1.ThrottleSpecial{{ObjectType: "APP", ObjectId: appID, CallLimits: 5}, {ObjectType: "USER", ObjectId: "tenant-1", CallLimits: 7}}}).(*apigwv1.Throttle)
	if got := th.Specials[0].ObjectId; got != appID {
		t.Fatalf("special stored as %q, want %q verbatim", got, appID)
	}
	e.create(t, &apigwv1.App{Id: appID, Name: "later_app"})
	e.create(t, &apigwv1.App{Name: "named_app"})
	got, err := e.c.Get(e.ctx, &adminv1.GetRequest{Kind: "throttle", Id: "basic"})
	if err != nil {
		t.Fatal(err)
	}
	if s := got.Resource.GetThrottle().Specials[0]; s.ObjectId != appID {
		t.Errorf("special changed once the app exists: %v", s)
	}
	// A name of an existing app still resolves to its id.
	named := e.create(t, &apigwv1.Throttle{Name: "by_name", ApiCallLimits: 100, TimeInterval: 1, TimeUnit: "MINUTE",
		Specials: []*apigwv1.ThrottleSpecial{{ObjectType: "APP", ObjectId: "named_app", CallLimits: 5}}}).(*apigwv1.Throttle)
	app, err := e.c.Get(e.ctx, &adminv1.GetRequest{Kind: "app", Id: "named_app"})
	if err != nil {
		t.Fatal(err)
	}
	if named.Specials[0].ObjectId != app.Resource.GetApp().Id {
		t.Errorf("app name not resolved: %q", named.Specials[0].ObjectId)
	}
	// The special does not pin the app.
	if _, err := e.c.Delete(e.ctx, &adminv1.DeleteRequest{Kind: "app", Id: appID}); err != nil {
		t.Fatalf("deleting an app named by a special: %v", err)
	}
	got, err = e.c.Get(e.ctx, &adminv1.GetRequest{Kind: "throttle", Id: th.Id})
	if err != nil || got.Resource.GetThrottle().Specials[0].ObjectId != appID {
		t.Errorf("special after the app was deleted: %v %v", got, err)
	}
}
