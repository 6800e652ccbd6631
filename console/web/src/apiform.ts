// Pure logic of the API editor's form: the field paths it shows and the
// channel status that follows the member-group URLs.
import type { DescMessage } from "@bufbuild/protobuf";
import { getPath, setPath, type AnyMsg } from "./resources";

/** vpc_channel_status: 1 a load-balance channel, 2 none, 4 the channel's member groups. */
export const CHANNEL = 1;
export const MEMBER_GROUPS = 4;

export const MEMBER_GROUP_FIELDS = ["member_group_name", "member_group_id", "req_protocol", "req_method", "req_uri"];
export const CONDITION_FIELDS = ["condition_origin", "req_param_name", "sys_param_name", "cookie_param_name", "condition_type", "condition_value"];
export const BACKEND_PARAM_FIELDS = ["name", "location", "origin", "value"];
export const POLICY_FUNCTION_FIELDS = ["name", "function_urn", "version", "alias_urn", "invocation_type", "network_type", "timeout", "effect_mode"];

/**
 * The paths of a repeated message's fields the form shows: list[i].f for
 * each row and field (a violation of the list itself, or of a field the
 * form has no input for, goes to the top of the editor with its path).
 */
export function rowPaths(m: AnyMsg, list: string, fields: string[]): string[] {
  const rows = (getPath(m, list) as unknown[] | undefined) ?? [];
  return rows.flatMap((_, i) => fields.map((f) => `${list}[${i}].${f}`));
}

/** The backends (field path prefixes) that may call member groups: the HTTP backend and each HTTP policy backend. */
export function channelBackends(m: AnyMsg): string[] {
  return ["backend_api", ...((m.policyHttps as unknown[] | undefined) ?? []).map((_, i) => `policy_https[${i}]`)];
}

/** Whether the backend at prefix uses a load-balance channel (with or without member groups). */
export function onChannel(m: AnyMsg, prefix: string): boolean {
  const s = getPath(m, prefix + ".vpc_channel_status");
  return s === CHANNEL || s === MEMBER_GROUPS;
}

/**
 * The message with each channel backend's vpc_channel_status following its
 * member-group URLs: 4 while it lists some, 1 when it lists none. A backend
 * off the channel (2) keeps its URLs and status, so ticking the channel box
 * again brings them back.
 */
export function syncMemberGroups<T extends AnyMsg>(schema: DescMessage, m: T): T {
  let out = m;
  for (const p of channelBackends(m)) {
    if (!onChannel(out, p)) continue;
    const n = ((getPath(out, p + ".member_group_url_infos") as unknown[] | undefined) ?? []).length;
    const want = n ? MEMBER_GROUPS : CHANNEL;
    if (getPath(out, p + ".vpc_channel_status") !== want) out = setPath(schema, out, p + ".vpc_channel_status", want);
  }
  return out;
}

/** The status a channel box sets when ticked: 4 when the backend keeps member-group URLs, else 1. */
export function channelOn(m: AnyMsg, prefix: string): number {
  return ((getPath(m, prefix + ".member_group_url_infos") as unknown[] | undefined) ?? []).length ? MEMBER_GROUPS : CHANNEL;
}

/** The paths the API form shows (violations of others go to the top). */
export function apiFormPaths(m: AnyMsg): string[] {
  const p = ["name", "group_id", "req_protocol", "req_method", "req_uri", "match_mode", "auth_type", "auth_opt.app_code_auth_type", "authorizer_id", "cors", "tags", "remark",
    "backend_type", "backend_api", "backend_api.req_protocol", "backend_api.req_method", "backend_api.url_domain", "backend_api.req_uri", "backend_api.timeout",
    "backend_api.vpc_channel_status", "backend_api.vpc_channel_info.vpc_channel_id", "mock_info", "mock_info.status_code", "mock_info.result_content", "func_info", "func_info.function_urn"];
  p.push(...rowPaths(m, "req_params", ["name", "location", "type", "required", "default_value"]));
  p.push(...rowPaths(m, "backend_params", BACKEND_PARAM_FIELDS));
  p.push(...rowPaths(m, "backend_api.member_group_url_infos", MEMBER_GROUP_FIELDS));
  ((m.policyHttps as unknown[] | undefined) ?? []).forEach((_, i) => p.push(...rowPaths(m, `policy_https[${i}].member_group_url_infos`, MEMBER_GROUP_FIELDS)));
  ((m.policyFunctions as unknown[] | undefined) ?? []).forEach((_, i) => {
    const at = `policy_functions[${i}]`;
    p.push(...POLICY_FUNCTION_FIELDS.map((f) => `${at}.${f}`));
    p.push(...rowPaths(m, at + ".conditions", CONDITION_FIELDS));
    p.push(...rowPaths(m, at + ".backend_params", BACKEND_PARAM_FIELDS));
  });
  return p;
}
