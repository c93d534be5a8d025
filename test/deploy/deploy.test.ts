/**
 * Static checks of the deployment assets (deploy/, Dockerfile): everything parses, the Helm chart's
 * templates only use values that exist, values.yaml satisfies values.schema.json, the dashboard
 * queries have a datasource, and — when promtool is installed — deploy/check.sh passes (alert rule
 * unit tests, PromQL parsing of every dashboard query). Needs no services.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const DEPLOY = join(ROOT, "deploy");
const CHART = join(DEPLOY, "helm/taskorch");
const TEMPLATES = join(CHART, "templates");

const read = (path: string): string => readFileSync(path, "utf8");
const readYaml = (path: string): any => parse(read(path), { merge: true });
const readJson = (path: string): any => JSON.parse(read(path));

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

function onPath(command: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" }).status === 0;
}

/** Looks a dotted path up in a plain object; `undefined` when any segment is missing. */
function lookup(root: unknown, path: string[]): { found: boolean; value?: unknown } {
  let node: unknown = root;
  for (const key of path) {
    if (node === null || typeof node !== "object" || !Object.prototype.hasOwnProperty.call(node, key)) return { found: false };
    node = (node as Record<string, unknown>)[key];
  }
  return { found: true, value: node };
}

// --- a small JSON Schema (draft-07 subset) validator: only the keywords values.schema.json uses ---
type Schema = Record<string, any>;
const SUPPORTED = new Set([
  "$schema", "title", "description", "default", "type", "enum", "properties", "required", "additionalProperties",
  "propertyNames", "items", "minimum", "maximum", "minLength", "pattern", "not",
]);

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function validate(schema: Schema, value: unknown, path = "$"): string[] {
  const unknownKeywords = Object.keys(schema).filter((k) => !SUPPORTED.has(k));
  if (unknownKeywords.length) return [`${path}: schema uses unsupported keywords ${unknownKeywords.join(", ")}`];
  const errors: string[] = [];
  const t = typeOf(value);
  if (schema.type !== undefined) {
    const allowed: string[] = Array.isArray(schema.type) ? schema.type : [schema.type];
    const ok = allowed.some((a) => a === t || (a === "number" && t === "integer"));
    if (!ok) return [`${path}: expected ${allowed.join("|")}, got ${t}`];
  }
  if (schema.enum && !schema.enum.some((e: unknown) => e === value)) errors.push(`${path}: ${JSON.stringify(value)} not in ${JSON.stringify(schema.enum)}`);
  if (schema.not && validate(schema.not, value, path).length === 0) errors.push(`${path}: must not match ${JSON.stringify(schema.not)}`);
  if (typeof value === "string") {
    if (schema.minLength !== undefined && value.length < schema.minLength) errors.push(`${path}: shorter than ${schema.minLength}`);
    if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) errors.push(`${path}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
  }
  if (typeof value === "number") {
    if (schema.minimum !== undefined && value < schema.minimum) errors.push(`${path}: below ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) errors.push(`${path}: above ${schema.maximum}`);
  }
  if (Array.isArray(value) && schema.items) value.forEach((v, i) => errors.push(...validate(schema.items, v, `${path}[${i}]`)));
  if (t === "object") {
    const obj = value as Record<string, unknown>;
    for (const key of schema.required ?? []) if (!(key in obj)) errors.push(`${path}: missing required ${key}`);
    for (const [key, v] of Object.entries(obj)) {
      if (schema.propertyNames) errors.push(...validate(schema.propertyNames, key, `${path}.${key} (name)`));
      if (schema.properties && key in schema.properties) errors.push(...validate(schema.properties[key], v, `${path}.${key}`));
      else if (schema.additionalProperties === false) errors.push(`${path}: unknown key ${key}`);
      else if (typeof schema.additionalProperties === "object") errors.push(...validate(schema.additionalProperties, v, `${path}.${key}`));
    }
  }
  return errors;
}

describe("deploy/: YAML and JSON parse", () => {
  const helmTemplates = (p: string) => p.startsWith(TEMPLATES + "/");
  const yamlFiles = walk(DEPLOY).filter((p) => /\.ya?ml$/.test(p) && !helmTemplates(p));

  it("finds the expected files", () => {
    const rel = yamlFiles.map((p) => relative(DEPLOY, p));
    expect(rel).toEqual(expect.arrayContaining([
      "docker-compose.yml", "prometheus/alerts.yml", "prometheus/alerts.test.yml", "prometheus/prometheus.yml",
      "grafana/provisioning/datasources/prometheus.yml", "grafana/provisioning/dashboards/taskorch.yml",
      "helm/taskorch/Chart.yaml", "helm/taskorch/values.yaml", "helm/taskorch/ci/ci-values.yaml", "helm/taskorch/files/alerts.yml",
    ]));
  });

  it.each(yamlFiles.map((p) => [relative(ROOT, p), p]))("%s parses as YAML", (_name, path) => {
    const docs = parseAllDocuments(read(path));
    const list = Array.isArray(docs) ? docs : [docs];
    for (const doc of list) expect(doc.errors.map((e) => e.message)).toEqual([]);
    expect(list.length).toBeGreaterThan(0);
  });

  it.each(walk(DEPLOY).filter((p) => p.endsWith(".json")).map((p) => [relative(ROOT, p), p]))("%s parses as JSON", (_name, path) => {
    expect(() => readJson(path)).not.toThrow();
  });
});

describe("Prometheus rules", () => {
  const rules = readYaml(join(DEPLOY, "prometheus/alerts.yml"));
  const alerts: any[] = rules.groups.flatMap((g: any) => g.rules);

  it("has the seed's alerts and the SRE additions", () => {
    expect(alerts.map((a) => a.alert)).toEqual(expect.arrayContaining([
      "NoLeader", "SplitBrain", "TaskQueueBacklog", "WorkerPoolSaturated", "TasksDeadLettered",
      "NoWorkersAlive", "TaskClaimLatencyHigh", "TaskErrorRateHigh", "GrpcServerErrorRateHigh",
    ]));
  });

  it("keeps the seed's thresholds and durations", () => {
    const by = Object.fromEntries(alerts.map((a) => [a.alert, a]));
    expect(by.NoLeader).toMatchObject({ for: "2m", labels: { severity: "warning" } });
    expect(by.NoLeader.expr).toMatch(/sum by \(namespace\) \(leader_status\) == 0/);
    expect(by.SplitBrain).toMatchObject({ for: "30s", labels: { severity: "critical" } });
    expect(by.SplitBrain.expr).toMatch(/\(leader_status\) > 1/);
    expect(by.TaskQueueBacklog).toMatchObject({ for: "5m" });
    expect(by.TaskQueueBacklog.expr).toMatch(/tasks_pending\) > 1000/);
    expect(by.WorkerPoolSaturated).toMatchObject({ for: "10m" });
    expect(by.TasksDeadLettered.expr).toMatch(/increase\(tasks_dead_letter_total\[5m\]\)\) > 0/);
  });

  it("gives every alert a severity, a summary, a description and a runbook hint", () => {
    for (const a of alerts) {
      expect(a.labels?.severity, a.alert).toMatch(/^(warning|critical)$/);
      for (const key of ["summary", "description", "runbook"]) expect(a.annotations?.[key], `${a.alert}.${key}`).toBeTruthy();
      expect(a.annotations.runbook, a.alert).toContain("docs/deploy.md#");
    }
  });

  it("has a runbook section in docs/deploy.md for every alert", () => {
    const doc = read(join(ROOT, "docs/deploy.md")).toLowerCase();
    for (const a of alerts) expect(doc, a.alert).toContain(`### ${a.alert.toLowerCase()}`);
  });

  it("unit-tests every alert (alerts.test.yml)", () => {
    const tests = readYaml(join(DEPLOY, "prometheus/alerts.test.yml"));
    const tested = new Set(tests.tests.flatMap((t: any) => t.alert_rule_test.map((r: any) => r.alertname)));
    for (const a of alerts) expect(tested.has(a.alert), a.alert).toBe(true);
  });

  it("ships an identical copy in the Helm chart", () => {
    expect(read(join(CHART, "files/alerts.yml"))).toBe(read(join(DEPLOY, "prometheus/alerts.yml")));
  });
});

describe("Grafana dashboard", () => {
  const path = join(DEPLOY, "grafana/dashboards/taskorch.json");
  const dash = readJson(path);
  const panels: any[] = dash.panels.flatMap((p: any) => [p, ...(p.panels ?? [])]).filter((p: any) => p.type !== "row");

  it("has a Prometheus datasource variable", () => {
    const v = dash.templating.list.find((x: any) => x.name === "datasource");
    expect(v).toMatchObject({ type: "datasource", query: "prometheus" });
  });

  it("gives every panel the ${datasource} datasource and a PromQL expr on every target", () => {
    expect(panels.length).toBeGreaterThan(10);
    for (const p of panels) {
      expect(p.datasource, p.title).toEqual({ type: "prometheus", uid: "${datasource}" });
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets) {
        expect(t.expr, `${p.title} ${t.refId}`).toEqual(expect.any(String));
        expect(t.expr.trim().length).toBeGreaterThan(0);
        expect(t.datasource).toEqual({ type: "prometheus", uid: "${datasource}" });
      }
    }
  });

  it("covers the metrics the operations guide recommends", () => {
    const exprs = panels.flatMap((p) => p.targets.map((t: any) => t.expr)).join("\n");
    for (const metric of [
      "grpc_server_handled_total", "grpc_server_handling_seconds_bucket", "tasks_enqueued_total", "tasks_completed_total",
      "task_duration_seconds_bucket", "tasks_pending", "tasks_running", "workers_total", "worker_pool_active",
      "worker_pool_capacity", "leader_status", "task_retries_total", "tasks_dead_letter_total", "task_claim_duration_seconds_bucket",
    ]) expect(exprs, metric).toContain(metric);
  });

  it("has unique panel ids and is what generate-dashboard.mjs produces (both copies)", () => {
    const ids = dash.panels.flatMap((p: any) => [p, ...(p.panels ?? [])]).map((p: any) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const r = spawnSync(process.execPath, [join(DEPLOY, "grafana/generate-dashboard.mjs"), "--check"], { encoding: "utf8" });
    expect(r.stderr + r.stdout).toBe("");
    expect(r.status).toBe(0);
  });
});

describe("Helm chart", () => {
  const values = readYaml(join(CHART, "values.yaml"));
  const schema = readJson(join(CHART, "values.schema.json"));
  const chart = readYaml(join(CHART, "Chart.yaml"));
  const templates = walk(TEMPLATES).map((p) => ({ name: relative(CHART, p), text: read(p) }));

  it("declares the official NATS chart as an optional dependency", () => {
    expect(chart.apiVersion).toBe("v2");
    expect(chart.dependencies).toContainEqual(expect.objectContaining({
      name: "nats", repository: "https://nats-io.github.io/k8s/helm/charts/", condition: "nats.enabled",
    }));
    expect(values.nats).toMatchObject({
      enabled: false,
      config: { cluster: { enabled: true, replicas: 3 }, jetstream: { enabled: true, fileStore: { enabled: true } } },
    });
  });

  it("uses only .Values paths that exist in values.yaml", () => {
    const missing: string[] = [];
    for (const t of templates) {
      for (const m of t.text.matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
        const path = m[1].slice(1).split(".");
        if (!lookup(values, path).found) missing.push(`${t.name}: .Values.${path.join(".")}`);
      }
      // `$c := index $.Values $component` inside `range $component := list "a" "b"`: check $c.x for each.
      const components = t.text.match(/range \$component := list ((?:"[a-z-]+"\s*)+)/);
      if (/\$c := index \$\.Values \$component/.test(t.text) && components) {
        const names = [...components[1].matchAll(/"([a-z-]+)"/g)].map((x) => x[1]);
        for (const m of t.text.matchAll(/\$c((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
          const rest = m[1].slice(1).split(".");
          // hasKey-guarded optional keys (pdb.minAvailable) need only exist in some component.
          const guarded = t.text.includes(`hasKey $c.${rest.slice(0, -1).join(".")} "${rest.at(-1)}"`);
          const present = names.filter((n) => lookup(values, [n, ...rest]).found);
          if (guarded ? present.length === 0 : present.length !== names.length) missing.push(`${t.name}: $c.${rest.join(".")} for ${names.join(",")}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it("values.yaml satisfies values.schema.json", () => {
    expect(validate(schema, values)).toEqual([]);
    const ci = readYaml(join(CHART, "ci/ci-values.yaml"));
    expect(validate(schema, { ...values, ...ci })).toEqual([]);
  });

  it("the schema rejects typos, wrong types and secrets in the ConfigMap", () => {
    const clone = () => structuredClone(values);
    const typo = clone(); typo.scheduler.replica = 3;
    const wrongType = clone(); wrongType.worker.poolSize = "ten";
    const badDuration = clone(); badDuration.config.LEADER_TERM = "30 seconds";
    const secretInConfig = clone(); secretInConfig.config.DATABASE_URL = "postgres://u:p@db/x";
    const badPull = clone(); badPull.image.pullPolicy = "Sometimes";
    const unknownTop = clone(); unknownTop.replicaCount = 2;
    for (const bad of [typo, wrongType, badDuration, secretInConfig, badPull, unknownTop]) expect(validate(schema, bad)).not.toEqual([]);
  });

  it("has no default secrets", () => {
    expect(values.existingSecret).toBe("");
    // Comments may show example URLs with placeholders; values may not hold any credential.
    const text = read(join(CHART, "values.yaml")).split("\n").filter((l) => !/^\s*#/.test(l)).join("\n");
    expect(text).not.toMatch(/^\s*(password|token|DATABASE_URL)\s*:\s*\S+/im);
    expect(text).not.toMatch(/postgres(ql)?:\/\/[^<\s'"]*:[^<\s'"@]+@/);
    expect(templates.some((t) => /^kind:\s*Secret\s*$/m.test(t.text))).toBe(false);
    expect(templates.find((t) => t.name.endsWith("_helpers.tpl"))!.text).toMatch(/required "existingSecret is required/);
  });

  it("probes gRPC services with grpc.health.v1 and workers with GET /health; hardens every container", () => {
    const byName = Object.fromEntries(templates.map((t) => [t.name.replace("templates/", ""), t.text]));
    for (const name of ["scheduler-deployment.yaml", "coordinator-deployment.yaml"]) {
      const text = byName[name];
      // With gRPC TLS on, kubelet's gRPC probe cannot speak TLS: the template switches to GET /health.
      for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
        expect(text, name).toMatch(new RegExp(`${probe}:\\n\\s+\\{\\{- if \\.Values\\.security\\.grpcTls\\.secretName \\}\\}\\n\\s+httpGet: \\{ path: /health, port: metrics \\}\\n\\s+\\{\\{- else \\}\\}\\n\\s+grpc:\\n\\s+port:`));
      }
      expect(text).toContain('"database" true');
    }
    const worker = byName["worker-deployment.yaml"];
    for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) expect(worker).toMatch(new RegExp(`${probe}:\\n\\s+httpGet:\\n\\s+path: /health`));
    expect(worker).toContain('"database" false');
    for (const name of ["scheduler-deployment.yaml", "coordinator-deployment.yaml", "worker-deployment.yaml"]) {
      expect(byName[name]).toContain("toYaml .Values.securityContext");
      expect(byName[name]).toContain('include "taskorch.podCommon"');
    }
    expect(values.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    expect(values.podSecurityContext).toMatchObject({ runAsNonRoot: true });
    expect(values.coordinator.replicas).toBe(2);
    expect(values.coordinator.pdb).toMatchObject({ enabled: true });
  });

  it("bundles the PrometheusRule and dashboard from the checked copies", () => {
    const byName = Object.fromEntries(templates.map((t) => [t.name.replace("templates/", ""), t.text]));
    expect(byName["prometheusrule.yaml"]).toContain('.Files.Get "files/alerts.yml"');
    expect(byName["grafana-dashboard.yaml"]).toContain('.Files.Get "files/taskorch-dashboard.json"');
    expect(read(join(CHART, "files/taskorch-dashboard.json"))).toBe(read(join(DEPLOY, "grafana/dashboards/taskorch.json")));
  });
});

describe("docker compose and Dockerfile", () => {
  const compose = readYaml(join(DEPLOY, "docker-compose.yml"));

  it("brings up the dependencies, the observability stack and the three services", () => {
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining([
      "postgres", "nats", "jaeger", "prometheus", "grafana", "scheduler", "coordinator", "worker",
    ]));
    expect(compose.services.postgres.image).toMatch(/^postgres:15/);
    expect(compose.services.nats.image).toMatch(/^nats:2\.10/);
    expect(compose.services.nats.command).toContain("-js");
    for (const s of ["scheduler", "coordinator", "worker"]) {
      expect(compose.services[s].build, s).toMatchObject({ context: "..", dockerfile: "Dockerfile" });
      expect(compose.services[s].command, s).toEqual([s]);
    }
    expect(compose.services.worker.environment.DATABASE_URL).toBeUndefined();
    expect(compose.services.scheduler.environment.METRICS_PORT).toBe("9090");
    expect(compose.services.coordinator.environment.METRICS_PORT).toBe("9091");
    expect(compose.services.worker.environment.METRICS_PORT).toBe("9092");
  });

  it("has no default passwords", () => {
    // Every password-bearing setting must come from a variable compose requires (${VAR:?message}).
    const envs = Object.entries(compose.services).map(([name, s]: [string, any]) => [name, s.environment ?? {}] as const);
    let checked = 0;
    for (const [name, env] of envs) {
      for (const [key, value] of Object.entries(env as Record<string, string>)) {
        if (/PASSWORD/.test(key) || /^postgres(ql)?:\/\/[^@]*:/.test(String(value))) {
          expect(String(value), `${name}.${key}`).toMatch(/\$\{[A-Z_]+:\?[^}]*\}/);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(3);
  });

  it("scrapes the ports compose gives each service", () => {
    const prom = readYaml(join(DEPLOY, "prometheus/prometheus.yml"));
    const port = (job: string) => prom.scrape_configs.find((c: any) => c.job_name === job).dns_sd_configs[0].port;
    expect([port("taskorch-scheduler"), port("taskorch-coordinator"), port("taskorch-worker")]).toEqual([9090, 9091, 9092]);
  });

  it("builds a multi-stage, non-root image whose entrypoint is the taskorch CLI", () => {
    const dockerfile = read(join(ROOT, "Dockerfile"));
    expect(dockerfile).toMatch(/^FROM \$\{NODE_IMAGE\} AS build$/m);
    expect(dockerfile).toContain("ARG NODE_IMAGE=node:20-bookworm-slim");
    expect(dockerfile).toMatch(/npm ci .*\n[\s\S]*npm run build/);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^USER 10001/m);
    expect(dockerfile).toContain('ENTRYPOINT ["node", "services/all-in-one/dist/cli.js"]');
    expect(dockerfile).toContain('CMD ["all-in-one"]');
    expect(read(join(ROOT, ".dockerignore"))).toMatch(/node_modules/);
  });
});

describe("deploy/check.sh", () => {
  const hasPromtool = onPath("promtool");
  const reason = hasPromtool ? "" : " (SKIPPED: promtool is not on PATH; apt-get install prometheus)";
  it.skipIf(!hasPromtool)(`passes: promtool check/test rules, dashboard PromQL parses${reason}`, () => {
    const r = spawnSync("bash", [join(DEPLOY, "check.sh")], { encoding: "utf8", timeout: 120_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("all checks passed");
  });

  it("fails with an install hint when promtool is missing", () => {
    // A PATH holding only what the script needs before it looks for promtool.
    const bin = mkdtempSync(join(tmpdir(), "taskorch-path-"));
    try {
      for (const tool of ["dirname", "node"]) {
        const found = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
        if (found) symlinkSync(found, join(bin, tool));
      }
      const r = spawnSync("/bin/bash", [join(DEPLOY, "check.sh")], { encoding: "utf8", env: { ...process.env, PATH: bin } });
      expect(r.status).toBe(2);
      expect(r.stderr).toContain("apt-get install prometheus");
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});

