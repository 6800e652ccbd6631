import { test } from "node:test";
import assert from "node:assert/strict";
import { blank, displayName, fromYAML, getPath, kind, kinds, setPath, splitPath, toYAML, unwrap, wrap } from "../src/resources";

test("the kinds are the oneof of apigw.v1.Resource", () => {
  const names = kinds.map((k) => k.name);
  for (const n of ["api", "group", "environment", "env_variable", "vpc_channel", "throttle", "acl", "app", "app_auth"]) {
    assert.ok(names.includes(n), n);
  }
  assert.equal(kind("vpc_channel").local, "vpcChannel");
  assert.throws(() => kind("nope"));
});

test("YAML round trip with proto field names; unknown fields are refused", () => {
  const api = kind("api");
  const m = blank(api, { name: "get_pet", reqUri: "/pets/{id}", backendApi: { urlDomain: "b:80" }, reqParams: [{ name: "id", location: "PATH" }] });
  const y = toYAML(api, m);
  assert.match(y, /^name: get_pet$/m);
  assert.match(y, /^req_uri: \/pets\/\{id\}$/m);
  assert.match(y, /url_domain: b:80/);
  const back = fromYAML(api, y);
  assert.equal(back.backendApi.urlDomain, "b:80");
  assert.equal(back.reqParams[0].location, "PATH");
  assert.throws(() => fromYAML(api, "nmae: x\n"), /nmae/);
  assert.throws(() => fromYAML(api, "- a\n"), /mapping/);
});

test("field paths of the admin API address messages", () => {
  assert.deepEqual(splitPath("req_params[2].default_value"), ["reqParams", 2, "defaultValue"]);
  const api = kind("api");
  const m = blank(api, { name: "x" });
  const n = setPath(api.schema, m, "backend_api.vpc_channel_info.vpc_channel_id", "ch1");
  assert.equal(getPath(n, "backend_api.vpc_channel_info.vpc_channel_id"), "ch1");
  assert.equal(m.backendApi, undefined, "setPath copies: the original is unchanged");
  const r = wrap(api, n);
  assert.equal(r.kind.case, "api");
  assert.equal(displayName(unwrap(r)), "x");
  assert.equal(displayName(blank(kind("acl"), { aclName: "deny_lab" })), "deny_lab");
  assert.equal(displayName(blank(kind("plugin"), { pluginName: "shop_cors" })), "shop_cors");
  assert.equal(displayName(blank(kind("orchestration"), { orchestrationName: "tier" })), "tier");
});
