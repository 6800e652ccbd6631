// Shared state and small components of the console.
import { createContext, type ComponentChildren } from "preact";
import { useCallback, useContext, useEffect, useState } from "preact/hooks";
import type { Api } from "./api";
import { errorMessage, fieldViolations, violationsFor, type FieldViolation } from "./errors";
import { translate, type Lang } from "./i18n";

export interface Ctx {
  api: Api;
  lang: Lang;
  instance: string;
  t: (key: string, ...args: (string | number)[]) => string;
  toast: (msg: string, kind?: "ok" | "error") => void;
  go: (hash: string) => void;
}

export const AppCtx = createContext<Ctx>(null as unknown as Ctx);
export const useApp = () => useContext(AppCtx);

export function makeT(lang: Lang) {
  return (key: string, ...args: (string | number)[]) => translate(lang, key, ...args);
}

/** Runs an async load when deps change; returns data, error and reload. */
export function useLoad<T>(fn: () => Promise<T>, deps: unknown[]): { data?: T; error?: unknown; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    fn().then(
      (data) => live && setState({ data, loading: false }),
      (error) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, n]);
  const reload = useCallback(() => setN((x) => x + 1), []);
  return { ...state, reload };
}

export function Page(props: { title: string; actions?: ComponentChildren; children: ComponentChildren }) {
  return (
    <section class="page">
      <header class="page-head">
        <h1>{props.title}</h1>
        <div class="actions">{props.actions}</div>
      </header>
      {props.children}
    </section>
  );
}

export function Card(props: { title?: string; children: ComponentChildren; id?: string; actions?: ComponentChildren }) {
  return (
    <div class="card" id={props.id}>
      {(props.title || props.actions) && (
        <div class="card-head">
          <h2>{props.title}</h2>
          <div class="actions">{props.actions}</div>
        </div>
      )}
      {props.children}
    </div>
  );
}

export function ErrorBox(props: { error: unknown }) {
  if (!props.error) return null;
  return (
    <div class="error" role="alert">
      {errorMessage(props.error)}
    </div>
  );
}

export function Loading() {
  const { t } = useApp();
  return <div class="muted">{t("Loading…")}</div>;
}

export interface Column<T> {
  title: string;
  cell: (row: T) => ComponentChildren;
  class?: string;
}

export function Table<T>(props: { columns: Column<T>[]; rows: T[]; testid?: string }) {
  const { t } = useApp();
  return (
    <table class="table" data-testid={props.testid}>
      <thead>
        <tr>
          {props.columns.map((c) => (
            <th class={c.class}>{c.title}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.rows.length === 0 && (
          <tr>
            <td class="muted" colSpan={props.columns.length}>
              {t("No data")}
            </td>
          </tr>
        )}
        {props.rows.map((r) => (
          <tr>
            {props.columns.map((c) => (
              <td class={c.class}>{c.cell(r)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Server-side paging: page tokens of the pages seen so far. */
export function usePager() {
  const [tokens, setTokens] = useState<string[]>([""]);
  const [idx, setIdx] = useState(0);
  return {
    token: tokens[idx],
    page: idx + 1,
    reset: () => {
      setTokens([""]);
      setIdx(0);
    },
    next: (nextToken: string) => {
      if (!nextToken) return;
      setTokens((ts) => [...ts.slice(0, idx + 1), nextToken]);
      setIdx((i) => i + 1);
    },
    prev: () => setIdx((i) => Math.max(0, i - 1)),
  };
}

export function Pager(props: { page: number; total?: number; nextToken?: string; onPrev: () => void; onNext: () => void }) {
  const { t } = useApp();
  return (
    <div class="pager">
      <span class="muted">
        {t("Total")}: <b data-testid="total">{props.total ?? 0}</b>
      </span>
      <button class="btn" disabled={props.page <= 1} onClick={props.onPrev}>
        {t("Previous")}
      </button>
      <span>{props.page}</span>
      <button class="btn" disabled={!props.nextToken} onClick={props.onNext}>
        {t("Next")}
      </button>
    </div>
  );
}

/** A labelled form field showing the server's violations of its path. */
export function Field(props: { label: string; path?: string; violations?: FieldViolation[]; children: ComponentChildren; hint?: string; wide?: boolean }) {
  const vs = props.path && props.violations ? violationsFor(props.violations, props.path) : [];
  return (
    <label class={"field" + (vs.length ? " invalid" : "") + (props.wide ? " wide" : "")} data-field={props.path}>
      <span class="label">{props.label}</span>
      {props.children}
      {props.hint && <span class="hint">{props.hint}</span>}
      {vs.map((v) => (
        <span class="field-error" role="alert">
          {v.description}
        </span>
      ))}
    </label>
  );
}

export function TextInput(props: { value: string; onInput: (v: string) => void; placeholder?: string; name?: string; type?: string }) {
  return (
    <input
      type={props.type ?? "text"}
      name={props.name}
      value={props.value}
      placeholder={props.placeholder}
      onInput={(e) => props.onInput((e.target as HTMLInputElement).value)}
    />
  );
}

export function Select(props: { value: string; options: (string | [string, string])[]; onChange: (v: string) => void; name?: string }) {
  return (
    <select name={props.name} value={props.value} onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}>
      {props.options.map((o) => {
        const [v, l] = Array.isArray(o) ? o : [o, o];
        return <option value={v}>{l}</option>;
      })}
    </select>
  );
}

export function Modal(props: { title: string; onClose: () => void; children: ComponentChildren; footer?: ComponentChildren }) {
  return (
    <div class="modal-back" onClick={(e) => e.target === e.currentTarget && props.onClose()}>
      <div class="modal" role="dialog" aria-label={props.title}>
        <div class="modal-head">
          <h2>{props.title}</h2>
          <button class="btn-link" aria-label="close" onClick={props.onClose}>
            ×
          </button>
        </div>
        <div class="modal-body">{props.children}</div>
        {props.footer && <div class="modal-foot">{props.footer}</div>}
      </div>
    </div>
  );
}

export function Tabs(props: { tabs: [string, string][]; value: string; onChange: (v: string) => void }) {
  return (
    <div class="tabs" role="tablist">
      {props.tabs.map(([v, l]) => (
        <button role="tab" aria-selected={v === props.value} class={v === props.value ? "tab on" : "tab"} onClick={() => props.onChange(v)}>
          {l}
        </button>
      ))}
    </div>
  );
}

export function Badge(props: { kind: "ok" | "warn" | "error" | "info"; children: ComponentChildren }) {
  return <span class={"badge " + props.kind}>{props.children}</span>;
}

/** The violations an error carries, or [] (for Field). */
export function violationsOf(err: unknown): FieldViolation[] {
  return err ? fieldViolations(err) : [];
}

export function text(b: Uint8Array | undefined): string {
  return b && b.length ? new TextDecoder().decode(b) : "";
}
