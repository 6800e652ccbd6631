import { test } from "node:test";
import assert from "node:assert/strict";
import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { Code, ConnectError } from "@connectrpc/connect";
import { decodeBadRequest, fieldViolations, unclaimed, violationsFor } from "../src/errors";

function badRequest(vs: [string, string][]): Uint8Array {
  const w = new BinaryWriter();
  for (const [field, desc] of vs) {
    w.uint32((1 << 3) | 2).fork();
    w.uint32((1 << 3) | 2).string(field);
    w.uint32((2 << 3) | 2).string(desc);
    w.join();
  }
  return w.finish();
}

test("decodes google.rpc.BadRequest field violations", () => {
  const b = badRequest([
    ["req_uri", "must start with /"],
    ["req_params[0].name", "is required"],
  ]);
  assert.deepEqual(decodeBadRequest(b), [
    { field: "req_uri", description: "must start with /" },
    { field: "req_params[0].name", description: "is required" },
  ]);
});

test("reads the violations of a ConnectError and ignores other details", () => {
  // As connect-web decodes them from the wire: type and bytes.
  const err = new ConnectError("invalid definition", Code.InvalidArgument);
  err.details.push(
    { type: "google.rpc.PreconditionFailure", value: new Uint8Array([10, 0]) },
    { type: "google.rpc.BadRequest", value: badRequest([["backend_api.url_domain", "is required"]]) },
  );
  assert.deepEqual(fieldViolations(err), [{ field: "backend_api.url_domain", description: "is required" }]);
  assert.deepEqual(fieldViolations(new Error("plain")), []);
});

test("assigns violations to form fields; an apply's resources[i] prefix is ignored", () => {
  const vs = [
    { field: "req_uri", description: "a" },
    { field: "resources[0].name", description: "b" },
    { field: "auth_type", description: "c" },
  ];
  assert.deepEqual(violationsFor(vs, "req_uri").map((v) => v.description), ["a"]);
  assert.deepEqual(violationsFor(vs, "name").map((v) => v.description), ["b"]);
  assert.deepEqual(unclaimed(vs, ["req_uri", "name"]).map((v) => v.field), ["auth_type"]);
});

test("a violation inside a field (a plug-in's JSON content) shows on that field", () => {
  const vs = [
    { field: "plugin_content.response_headers[0].action", description: "a" },
    { field: "plugin_contents", description: "b" },
    { field: "req_params[1].name", description: "c" },
  ];
  assert.deepEqual(violationsFor(vs, "plugin_content").map((v) => v.description), ["a"]);
  assert.deepEqual(violationsFor(vs, "req_params").map((v) => v.description), ["c"]);
  assert.deepEqual(unclaimed(vs, ["plugin_content", "req_params[1].name"]).map((v) => v.field), ["plugin_contents"]);
});
