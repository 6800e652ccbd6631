// FUNCTION policy backends (policy_functions) of the API editor: each with
// its function, invocation, effect mode, conditions and backend parameters.
import { create, type DescMessage } from "@bufbuild/protobuf";
import type { FieldViolation } from "../errors";
import { getPath, schemaAt, setPath, type AnyMsg } from "../resources";
import { useApp } from "../ui";
import { fieldInputs, Rows, type Col } from "./rows";

export function PolicyFunctions(props: { schema: DescMessage; msg: AnyMsg; set: (m: AnyMsg) => void; vs: FieldViolation[] }) {
  const { t } = useApp();
  const m = props.msg;
  const list: AnyMsg[] = m.policyFunctions ?? [];
  const f = fieldInputs(props.schema, m, props.set, props.vs);
  const add = () =>
    props.set(
      setPath(props.schema, m, "policy_functions", [
        ...list,
        create(schemaAt(props.schema, "policy_functions")!, { effectMode: "ANY", invocationType: "sync", networkType: "V1", timeout: 5000 } as never),
      ]),
    );
  const remove = (i: number) => props.set(setPath(props.schema, m, "policy_functions", list.filter((_, j) => j !== i)));
  const conditionCols: Col[] = [
    ["condition_origin", t("Condition source"), [["param", t("Request parameter")], ["source", t("Source IP address")], ["system", t("System parameter")], ["cookie", "Cookie"], ["frontend_authorizer", t("Frontend authorizer parameter")]]],
    ["req_param_name", t("Request parameter"), "text"],
    ["sys_param_name", t("System parameter"), [["", "—"], "req_path", "req_method"]],
    ["cookie_param_name", "Cookie", "text"],
    ["condition_type", t("Condition type"), [["exact", t("Equal")], ["enum", t("Enumerated")], ["pattern", t("Pattern")]]],
    ["condition_value", t("Condition value"), "text"],
  ];
  return (
    <div data-testid="policy-functions">
      {list.map((_, i) => {
        const at = `policy_functions[${i}]`;
        return (
          <fieldset class="policy" data-testid={at}>
            <legend>
              FUNCTION · {String(getPath(m, at + ".name") || t("New policy backend"))}
            </legend>
            <div class="form-grid">
              {f.text(t("Name"), at + ".name")}
              {f.text("function_urn", at + ".function_urn", "urn:fss:region:project:function:default:name")}
              {f.text(t("Version"), at + ".version", "latest")}
              {f.text("alias_urn", at + ".alias_urn")}
              {f.select(t("Invocation mode"), at + ".invocation_type", [["sync", t("Synchronous")], ["async", t("Asynchronous")]])}
              {f.select(t("Network architecture"), at + ".network_type", ["V1", "V2"])}
              {f.num(t("Timeout (ms)"), at + ".timeout")}
              {f.select(t("Effective mode"), at + ".effect_mode", [["ANY", t("Any condition met")], ["ALL", t("All conditions met")]])}
            </div>
            <h4>{t("Conditions")}</h4>
            <Rows schema={props.schema} msg={m} set={props.set} list={at + ".conditions"} vs={props.vs} cols={conditionCols} init={{ conditionOrigin: "param", conditionType: "exact" }} />
            <h4>{t("Backend parameters")}</h4>
            <Rows
              schema={props.schema}
              msg={m}
              set={props.set}
              list={at + ".backend_params"}
              vs={props.vs}
              cols={[
                ["name", t("Name"), "text"],
                ["location", t("Location"), ["PATH", "QUERY", "HEADER"]],
                ["origin", t("Origin"), ["REQUEST", "CONSTANT", "SYSTEM"]],
                ["value", t("Value"), "text"],
              ]}
              init={{ location: "HEADER", origin: "CONSTANT" }}
            />
            <button class="btn-link danger" data-testid={`remove-${at}`} onClick={() => remove(i)}>
              {t("Remove policy backend")}
            </button>
          </fieldset>
        );
      })}
      <button class="btn" data-testid="add-policy-function" onClick={add}>
        + {t("Add FUNCTION policy backend")}
      </button>
    </div>
  );
}
