package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/apigw/apigw/model"
)

// kindAliases maps plural and short spellings to kind names.
var kindAliases = map[string]string{
	"apis": model.KindAPI, "groups": model.KindGroup, "apigroup": model.KindGroup, "apigroups": model.KindGroup,
	"environments": model.KindEnvironment, "env": model.KindEnvironment, "envs": model.KindEnvironment,
	"env_variables": model.KindEnvVariable, "variable": model.KindEnvVariable, "variables": model.KindEnvVariable, "var": model.KindEnvVariable, "vars": model.KindEnvVariable,
	"vpc_channels": model.KindVpcChannel, "channel": model.KindVpcChannel, "channels": model.KindVpcChannel,
	"throttles": model.KindThrottle, "acls": model.KindACL, "apps": model.KindApp, "app_quotas": model.KindAppQuota,
	"authorizers": model.KindAuthorizer, "responses": model.KindResponse, "certificates": model.KindCertificate, "cert": model.KindCertificate, "certs": model.KindCertificate,
	"throttle_bindings": model.KindThrottleBinding, "acl_bindings": model.KindACLBinding, "app_auths": model.KindAppAuth,
	"instances": model.KindInstance, "orchestrations": model.KindOrchestration,
}

// kindName resolves a kind as typed on the command line ("apis", "api",
// "vpc-channel").
func kindName(s string) (string, error) {
	s = strings.ToLower(strings.ReplaceAll(s, "-", "_"))
	if k := model.KindByName(s); k != nil && !k.Internal {
		return s, nil
	}
	if k, ok := kindAliases[s]; ok {
		return k, nil
	}
	return "", fmt.Errorf("unknown kind %q; one of %s", s, strings.Join(model.KindNames(), ", "))
}

func completeKinds(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return model.KindNames(), cobra.ShellCompDirectiveNoFileComp
}
