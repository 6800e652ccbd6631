// Small SVG charts of the metrics screen (no chart library: the console
// stays one small bundle).
import { niceMax } from "./metrics";

/** One horizontal bar split into coloured segments (e.g. by status class). */
export function StackedBar(props: { segments: { label: string; value: number; cls: string }[]; max: number; width?: number }) {
  const width = props.width ?? 160;
  const max = props.max > 0 ? props.max : 1;
  let x = 0;
  return (
    <svg class="chart stacked" width={width} height={12} role="img" aria-label={props.segments.map((s) => `${s.label} ${s.value}`).join(", ")}>
      <rect class="track" x={0} y={0} width={width} height={12} />
      {props.segments.map((s) => {
        const w = (s.value / max) * width;
        const r = <rect class={s.cls} x={x} y={0} width={w} height={12}>{<title>{`${s.label}: ${s.value}`}</title>}</rect>;
        x += w;
        return r;
      })}
    </svg>
  );
}

/** Vertical bars in groups: one group per label, one bar per series. */
export function BarChart(props: { groups: { label: string; values: number[] }[]; series: { label: string; cls: string }[]; unit?: string; testid?: string }) {
  const h = 140;
  const top = 12;
  const bottom = 22;
  const left = 44;
  const bw = 18;
  const gap = 18;
  const gw = props.series.length * bw + gap;
  const width = left + props.groups.length * gw + 8;
  const max = niceMax(Math.max(0, ...props.groups.flatMap((g) => g.values)));
  const y = (v: number) => top + (h - top - bottom) * (1 - v / max);
  return (
    <figure class="chart-box" data-testid={props.testid}>
      <svg class="chart bars-v" width={width} height={h} role="img">
        {[0, 0.5, 1].map((f) => (
          <g>
            <line class="grid" x1={left} x2={width - 4} y1={y(max * f)} y2={y(max * f)} />
            <text class="axis" x={left - 6} y={y(max * f) + 4} text-anchor="end">
              {fmt(max * f)}
            </text>
          </g>
        ))}
        {props.groups.map((g, i) => (
          <g>
            {g.values.map((v, j) => (
              <rect class={props.series[j].cls} x={left + i * gw + gap / 2 + j * bw} y={y(v)} width={bw - 3} height={Math.max(0, y(0) - y(v))} data-value={v}>
                <title>{`${g.label} ${props.series[j].label}: ${fmt(v)}${props.unit ?? ""}`}</title>
              </rect>
            ))}
            <text class="axis" x={left + i * gw + gw / 2} y={h - 6} text-anchor="middle">
              {g.label}
            </text>
          </g>
        ))}
      </svg>
      <figcaption class="legend">
        {props.series.map((s) => (
          <span>
            <i class={"swatch " + s.cls} />
            {s.label}
          </span>
        ))}
        {props.unit && <span class="muted">({props.unit.trim()})</span>}
      </figcaption>
    </figure>
  );
}

function fmt(v: number): string {
  if (v >= 1000) return (v / 1000).toFixed(v >= 10000 ? 0 : 1) + "k";
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}
