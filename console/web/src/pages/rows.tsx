// Form building blocks of the API editor: labelled inputs bound to a field
// path, and tables of repeated messages at any path (parameters,
// conditions, member-group URLs). Inputs are named by their field path so
// server-side violations show on them.
import { create, type DescMessage } from "@bufbuild/protobuf";
import type { FieldViolation } from "../errors";
import { violationsFor } from "../errors";
import { getPath, schemaAt, setPath, type AnyMsg } from "../resources";
import { Field, Select, TextInput, useApp } from "../ui";

/** Inputs of message m (of schema) bound to field paths. */
export function fieldInputs(schema: DescMessage, m: AnyMsg, setMsg: (m: AnyMsg) => void, vs: FieldViolation[]) {
  const set = (path: string, v: unknown) => setMsg(setPath(schema, m, path, v));
  const str = (path: string) => String(getPath(m, path) ?? "");
  return {
    set,
    str,
    text: (label: string, path: string, placeholder?: string) => (
      <Field label={label} path={path} violations={vs}>
        <TextInput name={path} value={str(path)} placeholder={placeholder} onInput={(v) => set(path, v)} />
      </Field>
    ),
    select: (label: string, path: string, options: (string | [string, string])[]) => (
      <Field label={label} path={path} violations={vs}>
        <Select name={path} value={str(path)} options={options} onChange={(v) => set(path, v)} />
      </Field>
    ),
    num: (label: string, path: string) => (
      <Field label={label} path={path} violations={vs}>
        <input type="number" name={path} value={str(path)} onInput={(e) => set(path, Number((e.target as HTMLInputElement).value) || 0)} />
      </Field>
    ),
  };
}

export type Col = [string, string, "text" | (string | [string, string])[]];

/** A table of the repeated messages at path list of msg, with add and remove. */
export function Rows(props: { schema: DescMessage; msg: AnyMsg; set: (m: AnyMsg) => void; list: string; cols: Col[]; vs: FieldViolation[]; init: Record<string, unknown>; addLabel?: string }) {
  const { t } = useApp();
  const rows: AnyMsg[] = (getPath(props.msg, props.list) as AnyMsg[] | undefined) ?? [];
  const setCell = (i: number, f: string, v: unknown) => props.set(setPath(props.schema, props.msg, `${props.list}[${i}].${f}`, v));
  const add = () => props.set(setPath(props.schema, props.msg, props.list, [...rows, create(schemaAt(props.schema, props.list)!, props.init as never)]));
  const remove = (i: number) => props.set(setPath(props.schema, props.msg, props.list, rows.filter((_, j) => j !== i)));
  return (
    <table class="table rows" data-testid={props.list}>
      <thead>
        <tr>
          {props.cols.map((c) => (
            <th>{c[1]}</th>
          ))}
          <th />
        </tr>
      </thead>
      <tbody>
        {rows.map((_, i) => (
          <tr>
            {props.cols.map(([f, , kind]) => {
              const path = `${props.list}[${i}].${f}`;
              const v = String(getPath(props.msg, path) ?? "");
              const vs = violationsFor(props.vs, path);
              return (
                <td class={vs.length ? "invalid" : ""} data-field={path}>
                  {kind === "text" ? (
                    <TextInput name={path} value={v} onInput={(x) => setCell(i, f, x)} />
                  ) : (
                    <Select name={path} value={v} options={kind} onChange={(x) => setCell(i, f, f === "required" ? Number(x) : x)} />
                  )}
                  {vs.map((x) => (
                    <span class="field-error" role="alert">
                      {x.description}
                    </span>
                  ))}
                </td>
              );
            })}
            <td>
              <button class="btn-link danger" onClick={() => remove(i)}>
                {t("Remove")}
              </button>
            </td>
          </tr>
        ))}
      </tbody>
      <tfoot>
        <tr>
          <td colSpan={props.cols.length + 1}>
            <button class="btn" onClick={add}>
              + {props.addLabel ?? t("Add")}
            </button>
          </td>
        </tr>
      </tfoot>
    </table>
  );
}
