// Bindings of a throttling or ACL policy, a plug-in or a signature key,
// and the APIs an app is
// authorized for, with the forms to bind more and to unbind.
import { useState } from "preact/hooks";
import type { Api } from "../api";
import { displayName, unwrap, type AnyMsg } from "../resources";
import { Card, ErrorBox, Field, Select, Table, useApp, useLoad } from "../ui";

const bindingKind: Record<string, [string, string]> = {
  throttle: ["throttle_binding", "strategyId"],
  acl: ["acl_binding", "aclId"],
  app: ["app_auth", "appId"],
  plugin: ["plugin_binding", "pluginId"],
  signature: ["signature_binding", "signId"],
};

/** The environments to choose from: RELEASE and the defined ones. */
export function useEnvs() {
  const { api, instance } = useApp();
  const envs = useLoad(() => api.admin.list({ instance, kind: "environment", pageSize: 1000 }), [instance]);
  const names = (envs.data?.resources ?? []).map((r) => displayName(unwrap(r)));
  return ["RELEASE", ...names.filter((n) => n !== "RELEASE")];
}

export function Bindings(props: { policyKind: string; policyId: string }) {
  const { api, instance, t, toast } = useApp();
  const [kind, field] = bindingKind[props.policyKind];
  const envs = useEnvs();
  const [env, setEnv] = useState("RELEASE");
  const [search, setSearch] = useState("");
  const [picked, setPicked] = useState<string[]>([]);
  const [err, setErr] = useState<unknown>();
  const bindings = useLoad(async () => (await listAll(api, instance, kind)).filter((b) => b[field] === props.policyId), [instance, kind, props.policyId]);
  const apis = useLoad(() => api.admin.list({ instance, kind: "api", name: search, pageSize: 20 }), [instance, search]);
  const bind = async () => {
    try {
      await api.admin.bind({ instance, policyKind: props.policyKind, policyId: props.policyId, envId: env, apiIds: picked });
      setPicked([]);
      setErr(undefined);
      bindings.reload();
      toast(t("Bound {0} API(s)", picked.length));
    } catch (e) {
      setErr(e);
    }
  };
  const unbind = async (b: AnyMsg) => {
    try {
      await api.admin.unbind({ instance, policyKind: props.policyKind, policyId: props.policyId, envId: b.envId, apiIds: [b.apiId] });
      bindings.reload();
    } catch (e) {
      setErr(e);
    }
  };
  return (
    <Card title={props.policyKind === "app" ? t("Authorized APIs") : t("Bound APIs")}>
      <ErrorBox error={err || bindings.error} />
      <Table
        testid="bindings"
        rows={bindings.data ?? []}
        columns={[
          { title: t("API"), cell: (b) => <a href={"#/apis/" + b.apiId}>{b.apiId}</a> },
          { title: t("Environment"), cell: (b) => b.envId },
          {
            title: t("Operation"),
            cell: (b) => (
              <button class="btn-link danger" onClick={() => unbind(b)}>
                {t("Unbind")}
              </button>
            ),
          },
        ]}
      />
      <h3>{props.policyKind === "app" ? t("Authorize APIs") : t("Bind to APIs")}</h3>
      <div class="form-row">
        <Field label={t("Environment")}>
          <Select name="bind-env" value={env} options={envs} onChange={setEnv} />
        </Field>
        <Field label={t("Search by name")}>
          <input name="bind-search" value={search} onInput={(e) => setSearch((e.target as HTMLInputElement).value)} />
        </Field>
      </div>
      <div class="picklist">
        {(apis.data?.resources ?? []).map((r) => {
          const a = unwrap(r)!;
          return (
            <label class="pick">
              <input
                type="checkbox"
                checked={picked.includes(a.id)}
                onChange={(e) => setPicked((p) => ((e.target as HTMLInputElement).checked ? [...p, a.id] : p.filter((x) => x !== a.id)))}
              />
              {a.name} <span class="muted">{a.reqMethod} {a.reqUri}</span>
            </label>
          );
        })}
      </div>
      <button class="btn primary" disabled={picked.length === 0} onClick={bind}>
        {props.policyKind === "app" ? t("Authorize APIs") : t("Bind to APIs")}
      </button>
    </Card>
  );
}

/** Every object of a kind, page by page (the admin API pages by 1000 at most). */
export async function listAll(api: Api, instance: string, kind: string): Promise<AnyMsg[]> {
  const out: AnyMsg[] = [];
  let pageToken = "";
  do {
    const r = await api.admin.list({ instance, kind, pageSize: 1000, pageToken });
    out.push(...r.resources.map((x) => unwrap(x)!));
    pageToken = r.nextPageToken;
  } while (pageToken);
  return out;
}
