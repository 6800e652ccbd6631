package cli_test

import (
	"testing"
)

// x-apigateway-orchestrations names rules that must exist: an import that
// names a missing rule is refused at the parameter's operation (JSON
// pointer) and changes nothing; once the rule exists the import succeeds
// and the export names the rule again.
func TestImportOrchestrationRules(t *testing.T) {
	e := start(t)
	e.must("kind: vpc_channel\nname: pets_canary\nport: 443\nmembers: [{host: 10.0.0.7}]\n---\nkind: app\nname: partner_app\n", "apply", "-f", "-")
	r := e.run("", "import", "-f", corpus(t, "swagger2_all.json"))
	if r.code == 0 {
		t.Fatalf("import with a missing orchestration rule succeeded:\n%s", r.out)
	}
	contains(t, "refusal", r.err, "/paths/~1pets/get", "req_params[0].orchestrations[0]", `orchestration "tenant_to_shard" does not exist`, "nothing was changed")
	e.must(`kind: orchestration
orchestration_name: tenant_to_shard
orchestration_strategy: list
orchestration_mapped_param: {mapped_param_name: X-Shard, mapped_param_type: number, mapped_param_location: header}
orchestration_map:
  - {map_param_list: ["10001"], mapped_param_value: "1"}
`, "apply", "-f", "-")
	r = e.run("", "import", "-f", corpus(t, "swagger2_all.json"))
	if r.code != 0 {
		t.Fatalf("import: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	contains(t, "export", e.must("", "export", "--group", "petstore", "--draft"), "x-apigateway-orchestrations", "tenant_to_shard")
}
