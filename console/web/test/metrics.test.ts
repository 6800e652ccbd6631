import { test } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { ApiMetricsSchema, GetAPIMetricsResponseSchema, WindowMetricsSchema } from "../src/gen/apigw/admin/v1/metrics_pb";
import { errorCodes, metricsRows, niceMax, statusSegments, windowOf, windowsFirst } from "../src/metrics";

const api = (name: string, env: string, calls: Record<string, number>) =>
  create(ApiMetricsSchema, {
    apiId: name + "-id",
    apiName: name,
    envId: env,
    envName: env,
    windows: Object.entries(calls).map(([window, n]) => create(WindowMetricsSchema, { window, calls: BigInt(n), status2xx: BigInt(n) })),
  });

test("metrics rows: the chosen window, most calls first", () => {
  const resp = create(GetAPIMetricsResponseSchema, {
    apis: [api("a", "RELEASE", { "1m": 5, "1h": 10 }), api("b", "RELEASE", { "1m": 1, "1h": 30 }), api("c", "TEST", { "1h": 10 })],
  });
  assert.deepEqual(
    metricsRows(resp, "1h").map((r) => `${r.api.apiName}:${r.w.calls}`),
    ["b:30", "a:10", "c:10"],
  );
  assert.deepEqual(
    metricsRows(resp, "1m").map((r) => `${r.api.apiName}:${r.w.calls}`),
    ["a:5", "b:1", "c:0"],
  );
  assert.deepEqual(metricsRows(undefined, "1m"), []);
  assert.equal(windowOf(resp.apis[2], "24h").calls, 0n);
  assert.deepEqual(windowsFirst("1h"), ["1h", "1m", "5m", "24h"]);
});

test("status segments, error codes and the axis bound", () => {
  const w = create(WindowMetricsSchema, { status2xx: 7n, status4xx: 2n, status5xx: 0n, status3xx: 1n, errorCodes: { "APIG.0303": 1n, "APIG.0308": 3n } });
  assert.deepEqual(
    statusSegments(w).map((s) => `${s.label}=${s.value}`),
    ["2xx=7", "3xx=1", "4xx=2"],
  );
  assert.deepEqual(errorCodes(w), [
    ["APIG.0308", 3],
    ["APIG.0303", 1],
  ]);
  assert.equal(niceMax(0), 1);
  assert.equal(niceMax(7), 10);
  assert.equal(niceMax(12), 20);
  assert.equal(niceMax(0.3), 0.5);
  assert.equal(niceMax(100), 100);
});
