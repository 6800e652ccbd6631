// Generic pages for the kinds without a dedicated editor: a list paged and
// filtered on the server, and an editor with a form of the kind's scalar
// fields (read from the generated descriptor) and a YAML tab for all of
// them. Throttling and ACL policies, plug-ins and signature keys show
// their bindings; apps their authorizations, key and secret.
import type { ComponentChildren } from "preact";
import { create } from "@bufbuild/protobuf";
import { useState } from "preact/hooks";
import { ScalarType } from "@bufbuild/protobuf";
import type { Resource } from "../gen/apigw/v1/resource_pb";
import { unclaimed, violationsFor, type FieldViolation } from "../errors";
import { blank, displayName, fromYAML, kind as kindOf, setPath, toYAML, unwrap, wrap, type AnyMsg, type Kind } from "../resources";
import { Card, ErrorBox, Field, Loading, Modal, Page, Pager, Table, Tabs, TextInput, useApp, useLoad, usePager, violationsOf, type Column } from "../ui";
import { Bindings } from "./bindings";
import { ChannelHealth } from "./channelhealth";

interface PageDef {
  kind: string;
  title: string;
  columns: (t: (k: string) => string) => Column<AnyMsg>[];
  groupFilter?: boolean;
}

const pages: Record<string, PageDef> = {
  groups: {
    kind: "group",
    title: "API Groups",
    columns: (t) => [
      { title: t("Debugging domain"), cell: (m) => <code>{m.slDomain}</code> },
      { title: t("Bound domains"), cell: (m) => (m.urlDomains ?? []).map((d: AnyMsg) => d.domain).join(", ") },
      { title: t("Remark"), cell: (m) => m.remark },
    ],
  },
  environments: { kind: "environment", title: "Environments", columns: (t) => [{ title: t("Remark"), cell: (m) => m.remark }] },
  env_variables: {
    kind: "env_variable",
    title: "Environment variables",
    groupFilter: true,
    columns: (t) => [
      { title: t("Group"), cell: (m) => m.groupId },
      { title: t("Environment"), cell: (m) => m.envId },
      { title: t("Value"), cell: (m) => m.variableValue },
    ],
  },
  responses: { kind: "response", title: "Gateway responses", groupFilter: true, columns: (t) => [{ title: t("Group"), cell: (m) => m.groupId }] },
  apps: {
    kind: "app",
    title: "Apps",
    columns: (t) => [
      { title: t("App key"), cell: (m) => <code>{m.appKey}</code> },
      { title: t("Remark"), cell: (m) => m.remark },
    ],
  },
  throttles: {
    kind: "throttle",
    title: "Throttling policies",
    columns: () => [
      { title: "API", cell: (m) => m.apiCallLimits },
      { title: "user", cell: (m) => m.userCallLimits || "-" },
      { title: "app", cell: (m) => m.appCallLimits || "-" },
      { title: "IP", cell: (m) => m.ipCallLimits || "-" },
      { title: "/", cell: (m) => `${m.timeInterval} ${m.timeUnit}` },
    ],
  },
  acls: {
    kind: "acl",
    title: "Access control",
    columns: (t) => [
      { title: t("Type"), cell: (m) => `${m.aclType} ${m.entityType}` },
      { title: t("Value"), cell: (m) => m.aclValue },
    ],
  },
  app_quotas: { kind: "app_quota", title: "Credential quotas", columns: (t) => [{ title: t("Limit"), cell: (m) => `${m.callLimits} / ${m.timeInterval} ${m.timeUnit}` }] },
  authorizers: { kind: "authorizer", title: "Custom authorizers", columns: (t) => [{ title: t("Type"), cell: (m) => `${m.type} ${m.authorizerType}` }, { title: "URI", cell: (m) => m.authorizerUri }] },
  channels: {
    kind: "vpc_channel",
    title: "Load balance channels",
    columns: (t) => [
      { title: t("Port"), cell: (m) => m.port },
      { title: t("Balance strategy"), cell: (m) => m.balanceStrategy },
      { title: t("Members"), cell: (m) => (m.members ?? []).map((x: AnyMsg) => `${x.host}${x.port ? ":" + x.port : ""}${x.isBackup ? " (backup)" : ""}`).join(", ") },
      { title: t("Health check"), cell: (m) => (m.vpcHealthConfig ? `${m.vpcHealthConfig.protocol} ${m.vpcHealthConfig.path ?? ""}` : "-") },
    ],
  },
  certificates: { kind: "certificate", title: "Certificates", columns: () => [{ title: "CN", cell: (m) => m.commonName }] },
  plugins: {
    kind: "plugin",
    title: "Plug-ins",
    columns: (t) => [
      { title: t("Type"), cell: (m) => m.pluginType },
      { title: t("Scope"), cell: (m) => m.pluginScope || "global" },
      { title: t("Remark"), cell: (m) => m.remark },
    ],
  },
  signatures: {
    kind: "signature",
    title: "Signature keys",
    columns: (t) => [
      { title: t("Type"), cell: (m) => m.signType },
      { title: t("Key"), cell: (m) => <code>{m.signKey}</code> },
    ],
  },
  orchestrations: {
    kind: "orchestration",
    title: "Orchestration rules",
    columns: (t) => [
      { title: t("Strategy"), cell: (m) => m.orchestrationStrategy },
      { title: t("Mapped parameter"), cell: (m) => m.orchestrationMappedParam?.mappedParamName ?? "-" },
    ],
  },
};

export function ResourcePage(props: { page: string; id?: string }) {
  const def = pages[props.page];
  const { t } = useApp();
  if (!def) return <Page title="404">{t("No data")}</Page>;
  // Keyed by page and object, so that moving from one editor to another
  // never keeps the previous object's state.
  if (props.id) return <ResourceEditor key={props.page + "/" + props.id} def={def} id={props.id === "new" ? undefined : props.id} page={props.page} />;
  return <ResourceList key={props.page} def={def} page={props.page} />;
}

function ResourceList(props: { def: PageDef; page: string }) {
  const { api, instance, t, go, toast } = useApp();
  const k = kindOf(props.def.kind);
  const [name, setName] = useState("");
  const pager = usePager();
  const list = useLoad(() => api.admin.list({ instance, kind: k.name, name, pageSize: 20, pageToken: pager.token }), [instance, name, pager.token]);
  const rows = (list.data?.resources ?? []).map((r) => unwrap(r)!);
  const del = async (m: AnyMsg) => {
    if (!confirm(t("Are you sure you want to delete {0}?", displayName(m)))) return;
    try {
      await api.admin.delete({ instance, kind: k.name, id: m.id });
      toast(t("Deleted {0}", displayName(m)));
      list.reload();
    } catch (e) {
      toast(String((e as Error).message), "error");
    }
  };
  return (
    <Page
      title={t(props.def.title)}
      actions={
        <button class="btn primary" onClick={() => go(`#/${props.page}/new`)}>
          {t("Create")}
        </button>
      }
    >
      <div class="toolbar">
        <input
          class="search"
          name="search"
          placeholder={t("Search by name")}
          value={name}
          onInput={(e) => {
            setName((e.target as HTMLInputElement).value);
            pager.reset();
          }}
        />
      </div>
      <ErrorBox error={list.error} />
      <Table
        testid={"list-" + k.name}
        rows={rows}
        columns={[
          { title: t("Name"), cell: (m) => <a href={`#/${props.page}/${m.id}`}>{displayName(m)}</a> },
          ...props.def.columns(t),
          {
            title: t("Operation"),
            class: "ops",
            cell: (m) => (
              <>
                <a href={`#/${props.page}/${m.id}`}>{t("Edit")}</a>
                <button class="btn-link danger" onClick={() => del(m)}>
                  {t("Delete")}
                </button>
              </>
            ),
          },
        ]}
      />
      <Pager page={pager.page} total={list.data?.total} nextToken={list.data?.nextPageToken} onPrev={pager.prev} onNext={() => pager.next(list.data?.nextPageToken ?? "")} />
    </Page>
  );
}

type DescMsg = Kind["schema"];
type DescFld = DescMsg["fields"][number];

const isScalar = (f: DescFld) => f.fieldKind === "scalar" || f.fieldKind === "enum";
/** A message the form can show: scalar fields only (not meta, not a timestamp). */
const flat = (m: DescMsg | undefined) => !!m && m.typeName !== "google.protobuf.Timestamp" && m.typeName !== "apigw.v1.Meta" && m.fields.every(isScalar);

/** The paths a generic form shows for m (its violations go on them). */
export function genericPaths(k: Kind, m: AnyMsg): string[] {
  const out: string[] = [];
  for (const f of k.schema.fields) {
    if (isScalar(f)) out.push(f.name);
    else if (f.fieldKind === "message" && flat(f.message)) f.message!.fields.forEach((x) => out.push(`${f.name}.${x.name}`));
    else if (f.fieldKind === "list" && f.listKind === "message" && flat(f.message))
      (m[f.localName] ?? []).forEach((_: unknown, i: number) => f.message!.fields.forEach((x) => out.push(`${f.name}[${i}].${x.name}`)));
  }
  return out;
}

/** An input for a scalar field at path. */
function ScalarInput(props: { f: DescFld; path: string; value: unknown; set: (v: unknown) => void }) {
  const { f, path, value: v, set } = props;
  if (f.fieldKind === "scalar" && f.scalar === ScalarType.BOOL) {
    return <input type="checkbox" name={path} checked={!!v} onChange={(e) => set((e.target as HTMLInputElement).checked)} />;
  }
  if (f.fieldKind === "scalar" && f.scalar === ScalarType.STRING) {
    return /content|private_key|trusted_root|user_data|body/.test(f.name) ? (
      <textarea name={path} rows={4} value={(v as string) ?? ""} onInput={(e) => set((e.target as HTMLTextAreaElement).value)} />
    ) : (
      <TextInput name={path} value={(v as string) ?? ""} onInput={set} />
    );
  }
  return <input type="number" name={path} value={(v as number) ?? ""} onInput={(e) => set(Number((e.target as HTMLInputElement).value) || 0)} />;
}

/**
 * The form of a kind read from its descriptor: its scalar fields, its
 * nested messages of scalars as sub-forms (a health check) and its lists of
 * them as tables (domains, members). Other fields are in the YAML tab.
 */
export function ScalarForm(props: { k: Kind; msg: AnyMsg; onChange: (m: AnyMsg) => void; violations: FieldViolation[]; skip?: string[] }) {
  const { t } = useApp();
  const { k, msg } = props;
  const set = (path: string, x: unknown) => props.onChange(setPath(k.schema, msg, path, x));
  const fields = k.schema.fields.filter((f) => f.name !== "id" && !(props.skip ?? []).includes(f.name));
  return (
    <div>
      <div class="form-grid">
        {fields.filter(isScalar).map((f) => (
          <Field label={f.name} path={f.name} violations={props.violations} wide={f.fieldKind === "scalar" && f.scalar === ScalarType.STRING && /content|key|body|data/.test(f.name)}>
            <ScalarInput f={f} path={f.name} value={msg[f.localName]} set={(x) => set(f.name, x)} />
          </Field>
        ))}
      </div>
      {fields
        .filter((f) => f.fieldKind === "message" && flat(f.message))
        .map((f) => (
          <>
            <h3>{f.name}</h3>
            <div class="form-grid">
              {f.message!.fields.map((x) => (
                <Field label={x.name} path={`${f.name}.${x.name}`} violations={props.violations}>
                  <ScalarInput f={x} path={`${f.name}.${x.name}`} value={msg[f.localName]?.[x.localName]} set={(v) => set(`${f.name}.${x.name}`, v)} />
                </Field>
              ))}
            </div>
          </>
        ))}
      {fields
        .filter((f) => f.fieldKind === "list" && f.listKind === "message" && flat(f.message))
        .map((f) => {
          const rows: AnyMsg[] = msg[f.localName] ?? [];
          const cols = f.message!.fields.filter((x) => x.name !== "id");
          return (
            <>
              <h3>{f.name}</h3>
              <table class="table rows" data-testid={f.name}>
                <thead>
                  <tr>
                    {cols.map((x) => (
                      <th>{x.name}</th>
                    ))}
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r, i) => (
                    <tr>
                      {cols.map((x) => {
                        const path = `${f.name}[${i}].${x.name}`;
                        const vs = violationsFor(props.violations, path);
                        return (
                          <td class={vs.length ? "invalid" : ""} data-field={path}>
                            <ScalarInput f={x} path={path} value={r[x.localName]} set={(v) => set(path, v)} />
                            {vs.map((v) => (
                              <span class="field-error" role="alert">
                                {v.description}
                              </span>
                            ))}
                          </td>
                        );
                      })}
                      <td>
                        <button class="btn-link danger" onClick={() => set(f.name, rows.filter((_, j) => j !== i))}>
                          {t("Remove")}
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
                <tfoot>
                  <tr>
                    <td colSpan={cols.length + 1}>
                      <button class="btn" onClick={() => set(f.name, [...rows, create(f.message!)])}>
                        + {t("Add")}
                      </button>
                    </td>
                  </tr>
                </tfoot>
              </table>
            </>
          );
        })}
    </div>
  );
}

/** The editor frame: form / YAML tabs, save with violations on their fields. */
export function Editor(props: {
  k: Kind;
  msg: AnyMsg;
  setMsg: (m: AnyMsg) => void;
  form: (violations: FieldViolation[]) => ComponentChildren;
  formPaths?: string[];
  onSaved: (r: Resource, created: boolean) => void;
  extra?: ComponentChildren;
}) {
  const { api, instance, t, toast } = useApp();
  const [tab, setTab] = useState("form");
  const [yaml, setYaml] = useState("");
  const [yamlError, setYamlError] = useState("");
  const [err, setErr] = useState<unknown>();
  const violations = violationsOf(err);
  const switchTab = (to: string) => {
    if (to === "yaml") setYaml(toYAML(props.k, props.msg));
    if (to === "form" && tab === "yaml") {
      try {
        props.setMsg(keepMeta(props.msg, fromYAML(props.k, yaml)));
        setYamlError("");
      } catch (e) {
        setYamlError((e as Error).message);
        return;
      }
    }
    setTab(to);
  };
  const save = async () => {
    let m = props.msg;
    if (tab === "yaml") {
      try {
        m = keepMeta(props.msg, fromYAML(props.k, yaml));
        setYamlError("");
      } catch (e) {
        setYamlError((e as Error).message);
        return;
      }
      props.setMsg(m);
    }
    try {
      const created = !m.id;
      const res = created ? await api.admin.create({ instance, resource: wrap(props.k, m) }) : await api.admin.update({ instance, resource: wrap(props.k, m) });
      setErr(undefined);
      toast(t("Saved {0}", displayName(unwrap(res.resource))));
      props.onSaved(res.resource!, created);
    } catch (e) {
      setErr(e);
    }
  };
  const rest = props.formPaths ? unclaimed(violations, props.formPaths) : violations;
  return (
    <div class="editor">
      <Tabs
        tabs={[
          ["form", t("Form")],
          ["yaml", t("YAML")],
        ]}
        value={tab}
        onChange={switchTab}
      />
      {err && (
        <div class="error" role="alert" data-testid="save-error">
          {violations.length ? t("Please correct the fields marked in red.") : String((err as Error).message)}
          {(tab === "yaml" ? violations : rest).map((v) => (
            <div class="violation">
              <code>{v.field}</code>: {v.description}
            </div>
          ))}
        </div>
      )}
      {tab === "form" ? props.form(violations) : <YamlArea value={yaml} onInput={setYaml} error={yamlError} />}
      {props.extra}
      <div class="form-actions">
        <button class="btn primary" data-testid="save" onClick={save}>
          {t("Save")}
        </button>
        <button class="btn" onClick={() => history.back()}>
          {t("Cancel")}
        </button>
      </div>
    </div>
  );
}

function keepMeta(old: AnyMsg, m: AnyMsg): AnyMsg {
  if (!m.id && old.id) m.id = old.id;
  if (!m.meta && old.meta) m.meta = old.meta;
  return m;
}

export function YamlArea(props: { value: string; onInput: (v: string) => void; error?: string }) {
  return (
    <div class="yaml">
      <textarea name="yaml" spellcheck={false} rows={24} value={props.value} onInput={(e) => props.onInput((e.target as HTMLTextAreaElement).value)} />
      {props.error && (
        <div class="field-error" role="alert">
          {props.error}
        </div>
      )}
    </div>
  );
}

function ResourceEditor(props: { def: PageDef; id?: string; page: string }) {
  const { api, instance, t, go } = useApp();
  const k = kindOf(props.def.kind);
  const [msg, setMsg] = useState<AnyMsg | undefined>(props.id ? undefined : blank(k));
  const [secret, setSecret] = useState<AnyMsg>();
  const loaded = useLoad(async () => {
    if (!props.id) return undefined;
    const r = await api.admin.get({ instance, kind: k.name, id: props.id });
    setMsg(unwrap(r.resource));
    return r;
  }, [instance, props.id]);
  if (!msg) return loaded.error ? <ErrorBox error={loaded.error} /> : <Loading />;
  return (
    <Page title={`${t(props.def.title)} · ${props.id ? displayName(msg) : t("Create")}`}>
      <Card>
        <Editor
          k={k}
          msg={msg}
          setMsg={setMsg}
          formPaths={genericPaths(k, msg)}
          form={(vs) => <ScalarForm k={k} msg={msg} onChange={setMsg} violations={vs} />}
          onSaved={(r, created) => {
            const m = unwrap(r)!;
            if (k.name === "app" && created && m.appSecret) {
              setSecret(m);
              return;
            }
            go(`#/${props.page}`);
          }}
        />
      </Card>
      {props.id && ["throttle", "acl", "app", "plugin", "signature"].includes(k.name) && <Bindings policyKind={k.name} policyId={props.id} />}
      {props.id && k.name === "vpc_channel" && <ChannelHealth channelId={props.id} />}
      {props.id && k.name === "app" && <AppSecret id={props.id} onSecret={setSecret} />}
      {secret && (
        <Modal
          title={displayName(secret)}
          onClose={() => {
            setSecret(undefined);
            go(`#/${props.page}`);
          }}
        >
          <p class="warn">{t("Copy the secret now: it is not shown again.")}</p>
          <dl class="kv">
            <dt>{t("App key")}</dt>
            <dd>
              <code data-testid="app-key">{secret.appKey}</code>
            </dd>
            <dt>{t("App secret")}</dt>
            <dd>
              <code data-testid="app-secret">{secret.appSecret}</code>
            </dd>
            {(secret.appCodes ?? []).map((c: AnyMsg) => (
              <>
                <dt>{t("AppCodes")}</dt>
                <dd>
                  <code>{c.appCode}</code>
                </dd>
              </>
            ))}
          </dl>
        </Modal>
      )}
    </Page>
  );
}

function AppSecret(props: { id: string; onSecret: (m: AnyMsg) => void }) {
  const { api, instance, t } = useApp();
  const [err, setErr] = useState<unknown>();
  return (
    <Card title={t("App secret")}>
      <ErrorBox error={err} />
      <button
        class="btn"
        onClick={async () => {
          try {
            const r = await api.admin.resetAppSecret({ instance, appId: props.id });
            props.onSecret(r.app as AnyMsg);
          } catch (e) {
            setErr(e);
          }
        }}
      >
        {t("Reset secret")}
      </button>
    </Card>
  );
}
