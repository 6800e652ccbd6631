package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// column is one column of a kind's table: its header and how a resource
// renders in it.
type column struct {
	header string
	value  func(proto.Message) string
}

// col makes a column of a kind whose messages are T.
func col[T proto.Message](header string, value func(T) string) column {
	return column{header: header, value: func(m proto.Message) string { return value(m.(T)) }}
}

// kindColumns is the table of each kind's columns.
var kindColumns = sync.OnceValue(func() map[string][]column {
	return map[string][]column{
		model.KindAPI: {
			col("ID", (*apigwv1.Api).GetId), col("NAME", (*apigwv1.Api).GetName), col("GROUP", (*apigwv1.Api).GetGroupId),
			col("METHOD", (*apigwv1.Api).GetReqMethod), col("PATH", (*apigwv1.Api).GetReqUri), col("MATCH", (*apigwv1.Api).GetMatchMode),
			col("AUTH", (*apigwv1.Api).GetAuthType), col("BACKEND", backendSummary),
		},
		model.KindGroup: {
			col("ID", (*apigwv1.ApiGroup).GetId), col("NAME", (*apigwv1.ApiGroup).GetName),
			col("DOMAINS", func(g *apigwv1.ApiGroup) string {
				ds := make([]string, len(g.UrlDomains))
				for i, d := range g.UrlDomains {
					ds[i] = d.Domain
				}
				return strings.Join(ds, ",")
			}),
			col("DEBUG DOMAIN", (*apigwv1.ApiGroup).GetSlDomain),
		},
		model.KindEnvironment: {
			col("ID", (*apigwv1.Environment).GetId), col("NAME", (*apigwv1.Environment).GetName), col("REMARK", (*apigwv1.Environment).GetRemark),
		},
		model.KindEnvVariable: {
			col("ID", (*apigwv1.EnvVariable).GetId), col("GROUP", (*apigwv1.EnvVariable).GetGroupId), col("ENV", (*apigwv1.EnvVariable).GetEnvId),
			col("NAME", (*apigwv1.EnvVariable).GetVariableName), col("VALUE", (*apigwv1.EnvVariable).GetVariableValue),
		},
		model.KindVpcChannel: {
			col("ID", (*apigwv1.VpcChannel).GetId), col("NAME", (*apigwv1.VpcChannel).GetName),
			col("PORT", func(c *apigwv1.VpcChannel) string { return itoa(c.Port) }),
			col("STRATEGY", func(c *apigwv1.VpcChannel) string { return itoa(c.BalanceStrategy) }),
			col("MEMBERS", func(c *apigwv1.VpcChannel) string { return itoa(int32(len(c.Members))) }),
		},
		model.KindThrottle: {
			col("ID", (*apigwv1.Throttle).GetId), col("NAME", (*apigwv1.Throttle).GetName),
			col("API", func(t *apigwv1.Throttle) string { return itoa(t.ApiCallLimits) }),
			col("USER", func(t *apigwv1.Throttle) string { return itoa(t.UserCallLimits) }),
			col("APP", func(t *apigwv1.Throttle) string { return itoa(t.AppCallLimits) }),
			col("IP", func(t *apigwv1.Throttle) string { return itoa(t.IpCallLimits) }),
			col("PER", func(t *apigwv1.Throttle) string { return fmt.Sprintf("%d %s", t.TimeInterval, t.TimeUnit) }),
			col("SHARED", func(t *apigwv1.Throttle) string { return strconv.FormatBool(t.Type == model.ThrottleShared) }),
		},
		model.KindACL: {
			col("ID", (*apigwv1.Acl).GetId), col("NAME", (*apigwv1.Acl).GetAclName), col("TYPE", (*apigwv1.Acl).GetAclType),
			col("ENTITY", (*apigwv1.Acl).GetEntityType), col("VALUE", (*apigwv1.Acl).GetAclValue),
		},
		model.KindApp: {
			col("ID", (*apigwv1.App).GetId), col("NAME", (*apigwv1.App).GetName), col("APP KEY", (*apigwv1.App).GetAppKey),
			col("APPCODES", func(a *apigwv1.App) string { return itoa(int32(len(a.AppCodes))) }),
			col("STATUS", func(a *apigwv1.App) string {
				if a.Status == 2 {
					return "frozen"
				}
				return "valid"
			}),
		},
		model.KindAppQuota: {
			col("ID", (*apigwv1.AppQuota).GetId), col("NAME", (*apigwv1.AppQuota).GetName),
			col("LIMIT", func(q *apigwv1.AppQuota) string { return itoa(q.CallLimits) }),
			col("PER", func(q *apigwv1.AppQuota) string { return fmt.Sprintf("%d %s", q.TimeInterval, q.TimeUnit) }),
			col("RESET", (*apigwv1.AppQuota).GetResetTime),
		},
		model.KindAuthorizer: {
			col("ID", (*apigwv1.Authorizer).GetId), col("NAME", (*apigwv1.Authorizer).GetName), col("TYPE", (*apigwv1.Authorizer).GetType),
			col("URI", (*apigwv1.Authorizer).GetAuthorizerUri), col("TTL", func(a *apigwv1.Authorizer) string { return itoa(a.Ttl) }),
		},
		model.KindResponse: {
			col("ID", (*apigwv1.GatewayResponse).GetId), col("NAME", (*apigwv1.GatewayResponse).GetName),
			col("GROUP", (*apigwv1.GatewayResponse).GetGroupId),
			col("TYPES", func(r *apigwv1.GatewayResponse) string { return itoa(int32(len(r.Responses))) }),
		},
		model.KindCertificate: {
			col("ID", (*apigwv1.Certificate).GetId), col("NAME", (*apigwv1.Certificate).GetName),
			col("COMMON NAME", (*apigwv1.Certificate).GetCommonName),
			col("NOT AFTER", func(c *apigwv1.Certificate) string {
				if c.NotAfter == nil {
					return ""
				}
				return c.NotAfter.AsTime().UTC().Format("2006-01-02")
			}),
		},
		model.KindOrchestration: {
			col("ID", (*apigwv1.Orchestration).GetId), col("NAME", (*apigwv1.Orchestration).GetOrchestrationName),
			col("STRATEGY", (*apigwv1.Orchestration).GetOrchestrationStrategy),
			col("MAPPED", func(o *apigwv1.Orchestration) string { return o.GetOrchestrationMappedParam().GetMappedParamName() }),
		},
		model.KindThrottleBinding: {
			col("ID", (*apigwv1.ThrottleBinding).GetId), col("API", (*apigwv1.ThrottleBinding).GetApiId),
			col("ENV", (*apigwv1.ThrottleBinding).GetEnvId), col("THROTTLE", (*apigwv1.ThrottleBinding).GetStrategyId),
		},
		model.KindACLBinding: {
			col("ID", (*apigwv1.AclBinding).GetId), col("API", (*apigwv1.AclBinding).GetApiId),
			col("ENV", (*apigwv1.AclBinding).GetEnvId), col("ACL", (*apigwv1.AclBinding).GetAclId),
		},
		model.KindAppAuth: {
			col("ID", (*apigwv1.AppAuth).GetId), col("API", (*apigwv1.AppAuth).GetApiId),
			col("ENV", (*apigwv1.AppAuth).GetEnvId), col("APP", (*apigwv1.AppAuth).GetAppId),
		},
		model.KindSignature: {
			col("ID", (*apigwv1.SignatureKey).GetId), col("NAME", (*apigwv1.SignatureKey).GetName),
			col("TYPE", (*apigwv1.SignatureKey).GetSignType), col("KEY", (*apigwv1.SignatureKey).GetSignKey),
		},
		model.KindSignBinding: {
			col("ID", (*apigwv1.SignatureBinding).GetId), col("API", (*apigwv1.SignatureBinding).GetApiId),
			col("ENV", (*apigwv1.SignatureBinding).GetEnvId), col("SIGNATURE", (*apigwv1.SignatureBinding).GetSignId),
		},
		model.KindPlugin: {
			col("ID", (*apigwv1.Plugin).GetId), col("NAME", (*apigwv1.Plugin).GetPluginName),
			col("TYPE", (*apigwv1.Plugin).GetPluginType), col("SCOPE", (*apigwv1.Plugin).GetPluginScope),
		},
		model.KindPluginBinding: {
			col("ID", (*apigwv1.PluginBinding).GetId), col("API", (*apigwv1.PluginBinding).GetApiId),
			col("ENV", (*apigwv1.PluginBinding).GetEnvId), col("PLUGIN", (*apigwv1.PluginBinding).GetPluginId),
		},
		model.KindInstance: {
			col("NAME", (*apigwv1.Instance).GetName), col("DESCRIPTION", (*apigwv1.Instance).GetDescription),
		},
	}
})

// row returns the table header and a row renderer for a kind.
func row(kind string) ([]string, func(proto.Message) []string) {
	cols, ok := kindColumns()[kind]
	if !ok {
		cols = []column{{header: "ID", value: model.IDOf}, {header: "NAME", value: model.NameOf}}
	}
	header := make([]string, len(cols))
	for i, c := range cols {
		header[i] = c.header
	}
	return header, func(m proto.Message) []string {
		out := make([]string, len(cols))
		for i, c := range cols {
			out[i] = c.value(m)
		}
		return out
	}
}

func backendSummary(a *apigwv1.Api) string {
	switch a.BackendType {
	case model.BackendMock:
		return "MOCK"
	case model.BackendFunction:
		return "FUNCTION " + a.GetFuncInfo().GetFunctionUrn()
	}
	b := a.GetBackendApi()
	if b.GetVpcChannelStatus() == model.ChannelMemberGroups {
		groups := make([]string, 0, len(b.GetMemberGroupUrlInfos()))
		for _, u := range b.GetMemberGroupUrlInfos() {
			g := u.GetMemberGroupName()
			if g == "" {
				g = u.GetMemberGroupId()
			}
			groups = append(groups, g+u.GetReqUri())
		}
		return fmt.Sprintf("%s channel:%s groups:%s", b.GetReqMethod(), b.GetVpcChannelInfo().GetVpcChannelId(), strings.Join(groups, ","))
	}
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
