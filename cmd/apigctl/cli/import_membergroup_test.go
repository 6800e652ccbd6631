package cli_test

import (
	"strings"
	"testing"
)

// groupChannel is the channel the member-group documents name.
const groupChannel = `kind: vpc_channel
name: VPC_6ZZ0
port: 8080
member_groups:
  - {member_group_name: blue_pool, member_group_weight: 3}
  - {member_group_name: green_pool, member_group_weight: 1}
members:
  - {host: 10.0.0.1, member_group_name: blue_pool}
  - {host: 10.0.0.2, member_group_name: green_pool}
`

// groupDoc has an HTTP-VPC-MEMBER-GROUP default backend (APIG's example
// shape) and a policy backend of the same type.
const groupDoc = `swagger: "2.0"
info: {title: groupshop, version: "1.0"}
host: groups.example.com
paths:
  /users/{userId}:
    get:
      operationId: get_user
      parameters:
        - {name: userId, in: path, type: string, required: true}
        - {name: canary, in: query, type: string}
      responses: {default: {description: ok}}
      x-apigateway-backend:
        type: HTTP-VPC-MEMBER-GROUP
        parameters:
          - {name: X-Group, in: HEADER, origin: SYSTEM, value: $context.member_group_name}
        httpVpcMemberGroupEndpoints:
          memberGroupUrlInfos:
            - {name: blue_pool, scheme: http, method: GET, path: "/v1/users/{userId}"}
            - {name: green_pool, scheme: https, method: GET, path: "/v2/users/{userId}"}
          enableClientSsl: false
          enableSmChannel: false
          retryCount: 0
          timeout: 5000
          name: VPC_6ZZ0
      x-apigateway-backend-policies:
        - name: canary
          type: HTTP-VPC-MEMBER-GROUP
          effectMode: ANY
          conditions: [{origin: param, parameter: canary, type: exact, value: "yes"}]
          httpVpcMemberGroupEndpoints:
            memberGroupUrlInfos:
              - {name: green_pool, scheme: http, method: GET, path: /canary}
            timeout: 3000
            name: VPC_6ZZ0
`

// HTTP-VPC-MEMBER-GROUP backends import as backends calling member groups
// (vpc_channel_status 4) and survive import → export → import, in both
// OpenAPI versions.
func TestImportExportRoundTripWithMemberGroups(t *testing.T) {
	e := start(t)
	e.must(groupChannel, "apply", "-f", "-")
	f := writeFile(t, t.TempDir(), "groups.yaml", groupDoc)
	e.must("", "import", "-f", f)
	got := e.must("", "get", "api", "get_user", "-o", "yaml")
	contains(t, "imported API", got, "vpc_channel_status: 4", "member_group_name: blue_pool", "req_uri: /v1/users/{userId}", "member_group_name: green_pool",
		"req_protocol: HTTPS", "value: $context.member_group_name", "req_uri: /canary")

	for _, oas := range []string{"2.0", "3.0"} {
		first := e.must("", "export", "--group", "groupshop", "--draft", "--oas", oas)
		contains(t, "export "+oas, first, "type: HTTP-VPC-MEMBER-GROUP", "httpVpcMemberGroupEndpoints:", "memberGroupUrlInfos:", "name: blue_pool", "path: /v2/users/{userId}",
			"name: VPC_6ZZ0")
		inst := "grp" + strings.ReplaceAll(oas, ".", "")
		e.must("kind: instance\nname: "+inst+"\n", "--instance", inst, "apply", "-f", "-")
		e.must(groupChannel, "--instance", inst, "apply", "-f", "-")
		g := writeFile(t, t.TempDir(), "export.yaml", first)
		e.must("", "--instance", inst, "import", "-f", g)
		second := e.must("", "--instance", inst, "export", "--group", "groupshop", "--draft", "--oas", oas)
		if first != second {
			t.Errorf("export → import → export (%s) differs:\nfirst:\n%s\nsecond:\n%s", oas, first, second)
		}
	}
}

// A member group URL without a group name, and an SM channel, are refused
// at their JSON pointers; nothing is imported.
func TestImportRefusesBadMemberGroupBackends(t *testing.T) {
	e := start(t)
	e.must(groupChannel, "apply", "-f", "-")
	for _, c := range []struct{ name, from, to, want string }{
		{"no group name", "- {name: blue_pool, scheme: http", "- {scheme: http", "/paths/~1users~1{userId}/get/x-apigateway-backend/httpVpcMemberGroupEndpoints/memberGroupUrlInfos/0: name (the member group) is required"},
		{"sm channel", "enableSmChannel: false\n          retryCount", "enableSmChannel: true\n          retryCount", "httpVpcMemberGroupEndpoints/enableSmChannel: SM"},
		{"other method", "scheme: https, method: GET", "scheme: https, method: POST", "member_group_url_infos[1].req_method: must be the backend's req_method (GET)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc := strings.Replace(groupDoc, c.from, c.to, 1)
			if doc == groupDoc {
				t.Fatal("the test's replacement does not apply")
			}
			r := e.run("", "import", "-f", writeFile(t, t.TempDir(), "bad.yaml", doc))
			if r.code == 0 {
				t.Fatalf("import succeeded:\n%s", r.out)
			}
			contains(t, "refusal", r.err, c.want)
		})
	}
}

// What only the instance can tell is refused when written, with the field
// path: a member-group URL naming a group the channel lacks, a channel
// update dropping a group an API calls, and a signature key bound to an
// API calling member groups.
func TestMemberGroupReferencesAreCheckedWhenWritten(t *testing.T) {
	e := start(t)
	e.must(groupChannel+"---\nkind: group\nname: grp_refs\n", "apply", "-f", "-")
	api := func(group string) string {
		return "kind: api\nname: grp_api\ngroup_id: grp_refs\nreq_method: GET\nreq_uri: /g\nbackend_api:\n  req_protocol: HTTP\n  vpc_channel_info: {vpc_channel_id: VPC_6ZZ0}\n" +
			"  member_group_url_infos:\n    - {member_group_name: " + group + ", req_uri: /g}\n"
	}
	r := e.run(api("red_pool"), "apply", "-f", "-")
	if r.code == 0 {
		t.Fatalf("an API calling a group the channel lacks was accepted:\n%s", r.out)
	}
	contains(t, "missing group", r.err, "backend_api.member_group_url_infos[0].member_group_name", `channel VPC_6ZZ0 has no member group "red_pool"`)

	e.must(api("green_pool"), "apply", "-f", "-")
	dropped := strings.Replace(groupChannel, "  - {member_group_name: green_pool, member_group_weight: 1}\n", "", 1)
	dropped = strings.Replace(dropped, "  - {host: 10.0.0.2, member_group_name: green_pool}\n", "", 1)
	r = e.run(dropped, "apply", "-f", "-")
	if r.code == 0 {
		t.Fatalf("a channel dropping a called group was accepted:\n%s", r.out)
	}
	contains(t, "dropped group", r.err, "member_groups", `calls member group "green_pool"`)

	e.must("kind: signature\nname: grp_signer\nsign_type: hmac\nsign_key: grp_key_0001\nsign_secret: grp_secret_000001\n", "apply", "-f", "-")
	r = e.run("", "bind", "signature", "grp_signer", "--group", "grp_refs", "--api", "grp_api")
	if r.code == 0 {
		t.Fatalf("a signature key was bound to an API calling member groups:\n%s", r.out)
	}
	contains(t, "signature", r.err, "api_id", "cannot be signed")

	// The other way round: an API bound to a key cannot start calling
	// member groups.
	e.must("kind: api\nname: plain_api\ngroup_id: grp_refs\nreq_method: GET\nreq_uri: /p\nbackend_api: {req_protocol: HTTP, url_domain: \"10.0.0.9:80\", req_uri: /p}\n", "apply", "-f", "-")
	e.must("", "bind", "signature", "grp_signer", "--group", "grp_refs", "--api", "plain_api")
	r = e.run(strings.NewReplacer("name: grp_api", "name: plain_api", "req_uri: /g\nbackend_api", "req_uri: /p\nbackend_api").Replace(api("green_pool")), "apply", "-f", "-")
	if r.code == 0 {
		t.Fatalf("an API bound to a signature key started calling member groups:\n%s", r.out)
	}
	contains(t, "signed API", r.err, "backend_api.vpc_channel_status", "cannot be signed")
}

// Reference channels point at builtin channels only, one level deep: a
// reference channel pointing at a reference channel, a referenced channel
// turned into a reference channel and the deletion of a referenced channel
// are refused.
func TestReferenceChannelRulesWhenWritten(t *testing.T) {
	e := start(t)
	e.must(groupChannel+"---\nkind: vpc_channel\nname: ref_one\ntype: reference\nmember_groups:\n  - {member_group_name: all, member_group_weight: 1, reference_vpc_channel_id: VPC_6ZZ0}\n", "apply", "-f", "-")
	r := e.run("kind: vpc_channel\nname: ref_two\ntype: reference\nmember_groups:\n  - {member_group_name: nested, reference_vpc_channel_id: ref_one}\n", "apply", "-f", "-")
	if r.code == 0 {
		t.Fatalf("a reference channel pointing at a reference channel was accepted:\n%s", r.out)
	}
	contains(t, "nested", r.err, "member_groups[0].reference_vpc_channel_id", "is a reference channel itself")
	r = e.run("kind: vpc_channel\nname: VPC_6ZZ0\ntype: reference\nmember_groups:\n  - {member_group_name: loop, reference_vpc_channel_id: ref_one}\n", "apply", "-f", "-")
	if r.code == 0 {
		t.Fatalf("a referenced channel became a reference channel:\n%s", r.out)
	}
	contains(t, "referenced", r.err, "type", "must stay builtin")
	if r := e.run("", "delete", "vpc_channel", "VPC_6ZZ0"); r.code == 0 {
		t.Fatalf("a referenced channel was deleted:\n%s", r.out)
	} else {
		contains(t, "delete", r.err, "still referenced", "member_groups[0].reference_vpc_channel_id")
	}
	r = e.run("kind: vpc_channel\nname: ref_three\ntype: reference\nmember_groups:\n  - {member_group_name: gone, reference_vpc_channel_id: no_such_channel}\n", "apply", "-f", "-")
	if r.code == 0 {
		t.Fatalf("a reference to a missing channel was accepted:\n%s", r.out)
	}
	contains(t, "missing", r.err, "member_groups[0].reference_vpc_channel_id")
}
