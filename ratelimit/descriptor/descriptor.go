// Package descriptor defines the rate-limit descriptor scheme shared by the
// xDS translator (route rate-limit actions) and the rate-limit service.
//
// Every descriptor is [instance, api, env, dim] plus, for dimensions with a
// subject, one subject entry:
//
//	instance=<name> api_id=<id> env_id=<id> dim=api
//	instance=<name> api_id=<id> env_id=<id> dim=user  account_id=<account>
//	instance=<name> api_id=<id> env_id=<id> dim=app   app_id=<app id>
//	instance=<name> api_id=<id> env_id=<id> dim=ip    client_ip=<ip>
//	instance=<name> api_id=<id> env_id=<id> dim=app_quota app_id=<app id>
//
// Subjects come from ext_authz's dynamic metadata (dataplane.Meta*); when a
// subject is absent Envoy drops that descriptor, so e.g. app limits only
// apply to calls with an authenticated app. Descriptors the service does
// not recognise are answered OK.
package descriptor

// Domain is the RateLimit filter domain.
const Domain = "apigw"

// Entry keys.
const (
	KeyInstance = "instance"
	KeyAPI      = "api_id"
	KeyEnv      = "env_id"
	KeyDim      = "dim"
	KeyAccount  = "account_id"
	KeyApp      = "app_id"
	KeyClientIP = "client_ip"
)

// Dimensions (values of KeyDim).
const (
	DimAPI      = "api"
	DimUser     = "user"
	DimApp      = "app"
	DimIP       = "ip"
	DimAppQuota = "app_quota"
)

// Dims lists the dimensions in evaluation order (api, user, app, ip; then
// the credential quota; docs/apig-semantics.md#throttling).
var Dims = []string{DimAPI, DimUser, DimApp, DimIP, DimAppQuota}

// SubjectKey returns the entry key holding a dimension's subject ("" for
// DimAPI).
func SubjectKey(dim string) string {
	switch dim {
	case DimUser:
		return KeyAccount
	case DimApp, DimAppQuota:
		return KeyApp
	case DimIP:
		return KeyClientIP
	}
	return ""
}
