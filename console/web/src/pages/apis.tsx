// The API list: filtered by group and name and paged on the server.
import { useState } from "preact/hooks";
import { displayName, unwrap, type AnyMsg } from "../resources";
import { listAll } from "./bindings";
import { Badge, ErrorBox, Page, Pager, Select, Table, useApp, useLoad, usePager } from "../ui";

/** Groups by id, for names and the group filter. */
export function useGroups() {
  const { api, instance } = useApp();
  return useLoad(() => listAll(api, instance, "group"), [instance]);
}

export function ApiList() {
  const { api, instance, t, go, toast } = useApp();
  const groups = useGroups();
  const [group, setGroup] = useState("");
  const [name, setName] = useState("");
  const pager = usePager();
  const list = useLoad(() => api.admin.list({ instance, kind: "api", groupId: group, name, pageSize: 20, pageToken: pager.token }), [instance, group, name, pager.token]);
  const groupName = (id: string) => displayName((groups.data ?? []).find((g) => g.id === id)) || id;
  const del = async (m: AnyMsg) => {
    if (!confirm(t("Are you sure you want to delete {0}?", m.name))) return;
    try {
      await api.admin.delete({ instance, kind: "api", id: m.id });
      toast(t("Deleted {0}", m.name));
      list.reload();
    } catch (e) {
      toast(String((e as Error).message), "error");
    }
  };
  return (
    <Page
      title={t("APIs")}
      actions={
        <button class="btn primary" data-testid="create-api" onClick={() => go("#/apis/new")}>
          {t("Create API")}
        </button>
      }
    >
      <div class="toolbar">
        <Select
          name="group-filter"
          value={group}
          options={[["", t("All groups")], ...(groups.data ?? []).map((g) => [g.id, g.name] as [string, string])]}
          onChange={(v) => {
            setGroup(v);
            pager.reset();
          }}
        />
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
        testid="list-api"
        rows={(list.data?.resources ?? []).map((r) => unwrap(r)!)}
        columns={[
          { title: t("Name"), cell: (m) => <a href={"#/apis/" + m.id}>{m.name}</a> },
          {
            title: t("Path"),
            cell: (m) => (
              <code>
                {m.reqMethod} {m.reqUri}
              </code>
            ),
          },
          { title: t("Group"), cell: (m) => groupName(m.groupId) },
          { title: t("Security authentication"), cell: (m) => <Badge kind="info">{m.authType}</Badge> },
          { title: t("Backend type"), cell: (m) => m.backendType },
          {
            title: t("Operation"),
            class: "ops",
            cell: (m) => (
              <>
                <a href={"#/apis/" + m.id}>{t("Edit")}</a>
                <a href={"#/publish/" + m.id}>{t("Publish")}</a>
                <a href={"#/debug/" + m.id}>{t("Debug")}</a>
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
