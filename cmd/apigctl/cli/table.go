package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// row returns the table header and a row renderer for a kind.
func row(kind string) ([]string, func(proto.Message) []string) {
	switch kind {
	case model.KindAPI:
		return []string{"ID", "NAME", "GROUP", "METHOD", "PATH", "MATCH", "AUTH", "BACKEND"}, func(m proto.Message) []string {
			a := m.(*apigwv1.Api)
			return []string{a.Id, a.Name, a.GroupId, a.ReqMethod, a.ReqUri, a.MatchMode, a.AuthType, backendSummary(a)}
		}
	case model.KindGroup:
		return []string{"ID", "NAME", "DOMAINS", "DEBUG DOMAIN"}, func(m proto.Message) []string {
			g := m.(*apigwv1.ApiGroup)
			var ds []string
			for _, d := range g.UrlDomains {
				ds = append(ds, d.Domain)
			}
			return []string{g.Id, g.Name, strings.Join(ds, ","), g.SlDomain}
		}
	case model.KindEnvironment:
		return []string{"ID", "NAME", "REMARK"}, func(m proto.Message) []string {
			e := m.(*apigwv1.Environment)
			return []string{e.Id, e.Name, e.Remark}
		}
	case model.KindEnvVariable:
		return []string{"ID", "GROUP", "ENV", "NAME", "VALUE"}, func(m proto.Message) []string {
			v := m.(*apigwv1.EnvVariable)
			return []string{v.Id, v.GroupId, v.EnvId, v.VariableName, v.VariableValue}
		}
	case model.KindVpcChannel:
		return []string{"ID", "NAME", "PORT", "STRATEGY", "MEMBERS"}, func(m proto.Message) []string {
			c := m.(*apigwv1.VpcChannel)
			return []string{c.Id, c.Name, itoa(c.Port), itoa(c.BalanceStrategy), itoa(int32(len(c.Members)))}
		}
	case model.KindThrottle:
		return []string{"ID", "NAME", "API", "USER", "APP", "IP", "PER", "SHARED"}, func(m proto.Message) []string {
			t := m.(*apigwv1.Throttle)
			return []string{t.Id, t.Name, itoa(t.ApiCallLimits), itoa(t.UserCallLimits), itoa(t.AppCallLimits), itoa(t.IpCallLimits),
				fmt.Sprintf("%d %s", t.TimeInterval, t.TimeUnit), strconv.FormatBool(t.Type == model.ThrottleShared)}
		}
	case model.KindACL:
		return []string{"ID", "NAME", "TYPE", "ENTITY", "VALUE"}, func(m proto.Message) []string {
			a := m.(*apigwv1.Acl)
			return []string{a.Id, a.AclName, a.AclType, a.EntityType, a.AclValue}
		}
	case model.KindApp:
		return []string{"ID", "NAME", "APP KEY", "APPCODES", "STATUS"}, func(m proto.Message) []string {
			a := m.(*apigwv1.App)
			st := "valid"
			if a.Status == 2 {
				st = "frozen"
			}
			return []string{a.Id, a.Name, a.AppKey, itoa(int32(len(a.AppCodes))), st}
		}
	case model.KindAppQuota:
		return []string{"ID", "NAME", "LIMIT", "PER", "RESET"}, func(m proto.Message) []string {
			q := m.(*apigwv1.AppQuota)
			return []string{q.Id, q.Name, itoa(q.CallLimits), fmt.Sprintf("%d %s", q.TimeInterval, q.TimeUnit), q.ResetTime}
		}
	case model.KindAuthorizer:
		return []string{"ID", "NAME", "TYPE", "URI", "TTL"}, func(m proto.Message) []string {
			a := m.(*apigwv1.Authorizer)
			return []string{a.Id, a.Name, a.Type, a.AuthorizerUri, itoa(a.Ttl)}
		}
	case model.KindResponse:
		return []string{"ID", "NAME", "GROUP", "TYPES"}, func(m proto.Message) []string {
			r := m.(*apigwv1.GatewayResponse)
			return []string{r.Id, r.Name, r.GroupId, itoa(int32(len(r.Responses)))}
		}
	case model.KindCertificate:
		return []string{"ID", "NAME", "COMMON NAME", "NOT AFTER"}, func(m proto.Message) []string {
			c := m.(*apigwv1.Certificate)
			na := ""
			if c.NotAfter != nil {
				na = c.NotAfter.AsTime().UTC().Format("2006-01-02")
			}
			return []string{c.Id, c.Name, c.CommonName, na}
		}
	case model.KindThrottleBinding:
		return []string{"ID", "API", "ENV", "THROTTLE"}, func(m proto.Message) []string {
			b := m.(*apigwv1.ThrottleBinding)
			return []string{b.Id, b.ApiId, b.EnvId, b.StrategyId}
		}
	case model.KindACLBinding:
		return []string{"ID", "API", "ENV", "ACL"}, func(m proto.Message) []string {
			b := m.(*apigwv1.AclBinding)
			return []string{b.Id, b.ApiId, b.EnvId, b.AclId}
		}
	case model.KindAppAuth:
		return []string{"ID", "API", "ENV", "APP"}, func(m proto.Message) []string {
			b := m.(*apigwv1.AppAuth)
			return []string{b.Id, b.ApiId, b.EnvId, b.AppId}
		}
	case model.KindInstance:
		return []string{"NAME", "DESCRIPTION"}, func(m proto.Message) []string {
			in := m.(*apigwv1.Instance)
			return []string{in.Name, in.Description}
		}
	}
	return []string{"ID", "NAME"}, func(m proto.Message) []string { return []string{model.IDOf(m), model.NameOf(m)} }
}

func backendSummary(a *apigwv1.Api) string {
	switch a.BackendType {
	case model.BackendMock:
		return "MOCK"
	case model.BackendFunction:
		return "FUNCTION " + a.GetFuncInfo().GetFunctionUrn()
	}
	b := a.GetBackendApi()
	if b.GetVpcChannelStatus() == model.ChannelOn {
		return fmt.Sprintf("%s channel:%s%s", b.GetReqMethod(), b.GetVpcChannelInfo().GetVpcChannelId(), b.GetReqUri())
	}
	return fmt.Sprintf("%s %s://%s%s", b.GetReqMethod(), strings.ToLower(b.GetReqProtocol()), b.GetUrlDomain(), b.GetReqUri())
}

func itoa(i int32) string { return strconv.Itoa(int(i)) }

// printTable writes rows under a header, aligned.
func printTable(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		for i := range r {
			if r[i] == "" {
				r[i] = "-"
			}
		}
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}
