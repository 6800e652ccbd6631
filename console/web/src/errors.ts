// Errors of the admin API as the console shows them: the status message,
// and the google.rpc.BadRequest field violations that name the field of
// the resource (e.g. "req_uri", "backend_api.url_domain",
// "req_params[0].name") so that each is shown on its field.
import { Code, ConnectError } from "@connectrpc/connect";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";

export interface FieldViolation {
  field: string;
  description: string;
}

const BAD_REQUEST = "google.rpc.BadRequest";

/** Decodes a google.rpc.BadRequest (field_violations = 1: {field = 1, description = 2}). */
export function decodeBadRequest(bytes: Uint8Array): FieldViolation[] {
  const out: FieldViolation[] = [];
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (no === 1 && wt === WireType.LengthDelimited) {
      const v = new BinaryReader(r.bytes());
      const fv: FieldViolation = { field: "", description: "" };
      while (v.pos < v.len) {
        const [n, w] = v.tag();
        if (n === 1 && w === WireType.LengthDelimited) fv.field = v.string();
        else if (n === 2 && w === WireType.LengthDelimited) fv.description = v.string();
        else v.skip(w, n);
      }
      out.push(fv);
    } else {
      r.skip(wt, no);
    }
  }
  return out;
}

/** The field violations carried by an error (none for other errors). */
export function fieldViolations(err: unknown): FieldViolation[] {
  const ce = ConnectError.from(err);
  const out: FieldViolation[] = [];
  for (const d of ce.details) {
    if ("type" in d && d.type === BAD_REQUEST && d.value instanceof Uint8Array) {
      out.push(...decodeBadRequest(d.value));
    }
  }
  return out;
}

/** A one-line message for an error. */
export function errorMessage(err: unknown): string {
  const ce = ConnectError.from(err);
  return ce.rawMessage || Code[ce.code] || String(err);
}

export function isUnauthenticated(err: unknown): boolean {
  return ConnectError.from(err).code === Code.Unauthenticated;
}

/**
 * Violations for a form field: those naming it exactly, and those naming
 * something inside it (e.g. "backend_api" collects "backend_api.url_domain"
 * when the form has no input for the latter). A prefix such as
 * "resources[0]." (an apply) is ignored.
 */
export function violationsFor(vs: FieldViolation[], path: string): FieldViolation[] {
  return vs.filter((v) => within(v.field.replace(/^resources\[\d+\]\./, ""), path));
}

/** Whether field is path or names something inside it. */
function within(field: string, path: string): boolean {
  return field === path || field.startsWith(path + ".") || field.startsWith(path + "[");
}

/** Violations no input of the form shows (given the paths it has). */
export function unclaimed(vs: FieldViolation[], paths: string[]): FieldViolation[] {
  return vs.filter((v) => {
    const f = v.field.replace(/^resources\[\d+\]\./, "");
    return !paths.some((p) => within(f, p));
  });
}
