// The resource kinds, read from the generated descriptor of
// apigw.v1.Resource (its oneof names the kinds): no hand-written copy of
// the model. YAML is the protobuf JSON mapping with proto field names, as
// `apigctl get -o yaml` prints a resource's fields.
import { clone, create, fromJson, toJson, type DescField, type DescMessage, type JsonValue, type Message } from "@bufbuild/protobuf";
import YAML from "yaml";
import { ResourceSchema, type Resource } from "./gen/apigw/v1/resource_pb";

export interface Kind {
  /** The admin API's kind: the oneof field name ("api", "vpc_channel"). */
  name: string;
  /** The oneof case in TypeScript ("api", "vpcChannel"). */
  local: string;
  schema: DescMessage;
}

export const kinds: Kind[] = ResourceSchema.oneofs[0].fields.map((f) => ({
  name: f.name,
  local: f.localName,
  schema: f.message!,
}));

export function kind(name: string): Kind {
  const k = kinds.find((k) => k.name === name);
  if (!k) throw new Error("unknown kind " + name);
  return k;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyMsg = Message & Record<string, any>;

/** The message a Resource holds. */
export function unwrap(r: Resource | undefined): AnyMsg | undefined {
  return r?.kind.value as AnyMsg | undefined;
}

/** Wraps a message of kind k into a Resource. */
export function wrap(k: Kind, m: Message): Resource {
  return create(ResourceSchema, { kind: { case: k.local, value: m } as Resource["kind"] });
}

/** The name shown for a resource (its name, or what stands for it). */
export function displayName(m: AnyMsg | undefined): string {
  if (!m) return "";
  return m.name || m.aclName || m.variableName || m.pluginName || m.orchestrationName || m.id || "";
}

/** A new, empty message of kind k with the given fields. */
export function blank(k: Kind, init: Record<string, unknown> = {}): AnyMsg {
  return create(k.schema, init as never) as AnyMsg;
}

/** The message as YAML (proto field names; output-only meta dropped). */
export function toYAML(k: Kind, m: Message, keepMeta = false): string {
  const json = toJson(k.schema, m, { useProtoFieldName: true }) as Record<string, JsonValue>;
  if (!keepMeta) delete json["meta"];
  return YAML.stringify(json, { lineWidth: 0 });
}

/** Parses YAML into a message of kind k; errors name the line or field. */
export function fromYAML(k: Kind, text: string): AnyMsg {
  const doc = YAML.parse(text, { prettyErrors: true }) ?? {};
  if (typeof doc !== "object" || Array.isArray(doc)) throw new Error("the document must be a mapping of fields");
  return fromJson(k.schema, doc as JsonValue) as AnyMsg;
}

/** Gets a value by a field path of the admin API ("backend_api.url_domain", "req_params[0].name"). */
export function getPath(m: AnyMsg, path: string): unknown {
  let cur: unknown = m;
  for (const seg of splitPath(path)) {
    if (cur == null) return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

/** Splits a field path into TypeScript property names and indexes. */
export function splitPath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const part of path.split(".")) {
    const m = /^([a-z0-9_]+)((\[\d+\])*)$/.exec(part);
    if (!m) {
      out.push(part);
      continue;
    }
    out.push(camel(m[1]));
    for (const idx of m[2].match(/\d+/g) ?? []) out.push(Number(idx));
  }
  return out;
}

export function camel(s: string): string {
  return s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The descriptor of the message at a field path of schema (undefined for scalars). */
export function schemaAt(schema: DescMessage, path: string): DescMessage | undefined {
  let cur: DescMessage | undefined = schema;
  for (const seg of splitPath(path)) {
    if (typeof seg === "number" || !cur) continue;
    const f: DescField | undefined = cur.fields.find((x) => x.localName === seg);
    if (!f) return undefined;
    cur = f.fieldKind === "message" || (f.fieldKind === "list" && f.listKind === "message") ? f.message : undefined;
  }
  return cur;
}

/**
 * Returns a copy of m with the value at path set; missing messages on the
 * way are created (a form can set "backend_api.url_domain" of an API that
 * has no backend yet).
 */
export function setPath<T extends AnyMsg>(schema: DescMessage, m: T, path: string, value: unknown): T {
  const next = clone(schema, m) as T;
  const segs = splitPath(path);
  let cur: Record<string | number, unknown> = next;
  let desc: DescMessage | undefined = schema;
  for (let i = 0; i < segs.length - 1; i++) {
    const seg = segs[i];
    let child = cur[seg];
    if (typeof seg === "string") {
      const f: DescField | undefined = desc?.fields.find((x) => x.localName === seg);
      desc = f && (f.fieldKind === "message" || f.fieldKind === "list") ? f.message : undefined;
      if (child == null && f?.fieldKind === "message" && f.message) {
        child = create(f.message);
        cur[seg] = child;
      }
    }
    cur = child as Record<string | number, unknown>;
  }
  cur[segs[segs.length - 1]] = value;
  return next;
}
