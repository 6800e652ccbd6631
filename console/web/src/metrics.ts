// Pure helpers of the metrics screen: the figures of one rolling window
// of each API, and the scale of the bars that draw them.
import { create } from "@bufbuild/protobuf";
import { WindowMetricsSchema, type ApiMetrics, type GetAPIMetricsResponse, type WindowMetrics } from "./gen/apigw/admin/v1/metrics_pb";

/** The rolling windows apigw keeps, shortest first. */
export const WINDOWS = ["1m", "5m", "1h", "24h"] as const;

/** The windows to ask for, the chosen one first (apigw sorts by it). */
export function windowsFirst(w: string): string[] {
  return [w, ...WINDOWS.filter((x) => x !== w)];
}

/** The figures of window w of an API (zeros when it has none). */
export function windowOf(a: ApiMetrics, w: string): WindowMetrics {
  return a.windows.find((x) => x.window === w) ?? create(WindowMetricsSchema, { window: w });
}

/** A row of the metrics table: an API in an environment, in one window. */
export interface MetricsRow {
  key: string;
  api: ApiMetrics;
  w: WindowMetrics;
}

/** The rows of window w, most calls first, then by API and environment name. */
export function metricsRows(resp: GetAPIMetricsResponse | undefined, w: string): MetricsRow[] {
  return (resp?.apis ?? [])
    .map((a) => ({ key: `${a.apiId}/${a.envId}`, api: a, w: windowOf(a, w) }))
    .sort((x, y) => Number(y.w.calls - x.w.calls) || x.api.apiName.localeCompare(y.api.apiName) || x.api.envName.localeCompare(y.api.envName));
}

/** Segments of a stacked bar: the responses by status class. */
export function statusSegments(w: WindowMetrics): { label: string; value: number; cls: string }[] {
  return [
    { label: "2xx", value: Number(w.status2xx), cls: "s2" },
    { label: "3xx", value: Number(w.status1xx + w.status3xx), cls: "s3" },
    { label: "4xx", value: Number(w.status4xx), cls: "s4" },
    { label: "5xx", value: Number(w.status5xx), cls: "s5" },
  ].filter((s) => s.value > 0);
}

/** A "nice" upper bound of a chart's axis for a maximum value: 1, 2 or 5 × 10ⁿ. */
export function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

/** The error codes of a window, most frequent first. */
export function errorCodes(w: WindowMetrics): [string, number][] {
  return Object.entries(w.errorCodes)
    .map(([k, v]) => [k, Number(v)] as [string, number])
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}
