import { test } from "node:test";
import assert from "node:assert/strict";
import { apiFormPaths, channelOn, onChannel, syncMemberGroups } from "../src/apiform";
import { unclaimed, type FieldViolation } from "../src/errors";
import { create } from "@bufbuild/protobuf";
import { blank, kind, schemaAt, setPath } from "../src/resources";

const api = kind("api");
const group = (name: string) => create(schemaAt(api.schema, "backend_api.member_group_url_infos")!, { memberGroupName: name });

test("the channel status follows the member-group URLs of each channel backend", () => {
  let m = blank(api, { backendType: "HTTP", backendApi: { vpcChannelStatus: 1, vpcChannelInfo: { vpcChannelId: "ch" } }, policyHttps: [{ name: "p1", vpcChannelStatus: 1 }, { name: "p2", urlDomain: "b:80", vpcChannelStatus: 2 }] });
  assert.equal(syncMemberGroups(api.schema, m), m, "nothing to change: the same message");
  m = setPath(api.schema, m, "backend_api.member_group_url_infos", [group("blue")]);
  m = setPath(api.schema, m, "policy_https[1].member_group_url_infos", [group("green")]);
  const s = syncMemberGroups(api.schema, m);
  assert.equal(s.backendApi.vpcChannelStatus, 4);
  assert.equal(s.policyHttps[0].vpcChannelStatus, 1, "a policy on the channel without URLs stays 1");
  assert.equal(s.policyHttps[1].vpcChannelStatus, 2, "a backend off the channel keeps its status (and URLs)");
  assert.equal(m.backendApi.vpcChannelStatus, 1, "the original is unchanged");
  // Removing the last URL goes back to the whole channel.
  const back = syncMemberGroups(api.schema, setPath(api.schema, s, "backend_api.member_group_url_infos", []));
  assert.equal(back.backendApi.vpcChannelStatus, 1);
  // Ticking the channel box again: 4 when URLs were kept.
  assert.equal(channelOn(s, "policy_https[1]"), 4);
  assert.equal(channelOn(s, "policy_https[0]"), 1);
  assert.ok(onChannel(s, "backend_api") && !onChannel(s, "policy_https[1]"));
});

test("the form claims the fields of member-group URLs and FUNCTION policy backends", () => {
  const m = blank(api, {
    backendType: "FUNCTION",
    backendApi: { memberGroupUrlInfos: [{}] },
    policyHttps: [{ memberGroupUrlInfos: [{}, {}] }],
    policyFunctions: [{ name: "f", conditions: [{}], backendParams: [{}] }],
  });
  const paths = apiFormPaths(m);
  for (const p of [
    "backend_api.member_group_url_infos[0].member_group_name",
    "policy_https[0].member_group_url_infos[1].req_uri",
    "policy_functions[0].function_urn",
    "policy_functions[0].invocation_type",
    "policy_functions[0].conditions[0].condition_value",
    "policy_functions[0].backend_params[0].value",
  ]) {
    assert.ok(paths.includes(p), p);
  }
  const v = (field: string): FieldViolation => ({ field, description: "x" }) as FieldViolation;
  // A violation of the list itself, or of a field without an input, stays at the top.
  assert.deepEqual(
    unclaimed([v("policy_functions[0].function_urn"), v("policy_functions[0].conditions"), v("policy_functions[0].authorizer_id"), v("resources[0].policy_functions[0].name")], paths).map((x) => x.field),
    ["policy_functions[0].conditions", "policy_functions[0].authorizer_id"],
  );
});
