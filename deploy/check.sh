#!/usr/bin/env bash
# Static checks of everything under deploy/ that a tool can check here. Installs nothing.
#
#   deploy/check.sh
#
# 1. promtool check rules + test rules on prometheus/alerts.yml (unit tests: alerts.test.yml)
# 2. promtool check config on prometheus/prometheus.yml
# 3. every PromQL expression of the Grafana dashboard (panel targets and the selectors inside
#    label_values() variables) parsed by promtool, as recording rules in a temporary rule file
# 4. the Helm chart's copies of the alerts and the dashboard are identical to the originals
# 5. helm lint + helm template, only when helm is on PATH (it is not installable on every machine)
#
# Needs: promtool (Debian/Ubuntu: `apt-get install prometheus`; or a release tarball from
# prometheus.io), node (to read the dashboard JSON; no npm packages).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
failed=0
step() { printf '\n== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; failed=1; }

if ! command -v promtool >/dev/null 2>&1; then
  echo "deploy/check.sh: promtool not found on PATH." >&2
  echo "  Install it with: apt-get install prometheus   (Debian/Ubuntu; ships /usr/bin/promtool)" >&2
  echo "  or unpack a Prometheus release from https://prometheus.io/download/ and add it to PATH." >&2
  exit 2
fi
if ! command -v node >/dev/null 2>&1; then
  echo "deploy/check.sh: node not found on PATH (needed to read the dashboard JSON)." >&2
  exit 2
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

step "promtool $(promtool --version 2>&1 | head -n1 | awk '{print $3}')"

step "alert rules: check"
promtool check rules prometheus/alerts.yml || fail "promtool check rules prometheus/alerts.yml"

step "alert rules: unit tests"
promtool test rules prometheus/alerts.test.yml || fail "promtool test rules prometheus/alerts.test.yml"

step "prometheus.yml: check config"
promtool check config prometheus/prometheus.yml || fail "promtool check config prometheus/prometheus.yml"

step "dashboards: parse every PromQL expression"
for dashboard in grafana/dashboards/*.json; do
  rules="$tmp/$(basename "$dashboard" .json).rules.yml"
  # Grafana interval macros are not PromQL: substitute durations. Template variables such as
  # $namespace only appear inside quoted label values, where they are plain strings to promtool;
  # one used anywhere else is a real error and promtool reports it.
  node - "$dashboard" "$rules" <<'JS'
const fs = require("node:fs");
const [src, out] = process.argv.slice(2);
const dash = JSON.parse(fs.readFileSync(src, "utf8"));
const macros = { "$__rate_interval": "5m", "${__rate_interval}": "5m", "$__interval": "1m", "${__interval}": "1m", "$__range": "1h", "${__range}": "1h" };
const sub = (e) => Object.entries(macros).reduce((s, [k, v]) => s.split(k).join(v), e);
const exprs = [];
const walk = (panels) => {
  for (const p of panels ?? []) {
    for (const t of p.targets ?? []) if (t.expr) exprs.push({ where: `panel ${p.id} "${p.title}" ${t.refId}`, expr: t.expr });
    walk(p.panels);
  }
};
walk(dash.panels);
for (const v of dash.templating?.list ?? []) {
  if (v.type !== "query") continue;
  const q = typeof v.query === "string" ? v.query : v.query?.query ?? "";
  // label_values(<selector>, label) / query_result(<expr>): check the PromQL inside.
  const m = q.match(/^\s*(?:label_values|query_result)\(([\s\S]*?)(?:,\s*\w+)?\)\s*$/);
  if (m && m[1].trim()) exprs.push({ where: `variable $${v.name}`, expr: m[1] });
}
if (exprs.length === 0) { console.error(`${src}: no expressions found`); process.exit(1); }
const rules = exprs.map((e, i) => ({ record: `dashboard:expr_${i + 1}`, expr: sub(e.expr), labels: { source: e.where } }));
// JSON is YAML: promtool reads it as a rule file.
fs.writeFileSync(out, JSON.stringify({ groups: [{ name: src, rules }] }, null, 2));
console.log(`${src}: ${exprs.length} expressions`);
JS
  promtool check rules "$rules" || fail "a PromQL expression in $dashboard does not parse (see $rules above)"
done

step "helm chart: bundled copies match their originals"
copies_ok=1
cmp -s prometheus/alerts.yml helm/taskorch/files/alerts.yml \
  || { copies_ok=0; fail "helm/taskorch/files/alerts.yml differs from prometheus/alerts.yml (cp prometheus/alerts.yml helm/taskorch/files/alerts.yml)"; }
node grafana/generate-dashboard.mjs --check \
  || { copies_ok=0; fail "dashboard JSON is stale (node deploy/grafana/generate-dashboard.mjs)"; }
[ "$copies_ok" -eq 1 ] && echo "ok"

step "helm chart: lint and template"
if command -v helm >/dev/null 2>&1; then
  chart=helm/taskorch
  if [ ! -d "$chart/charts" ] && ! helm dependency build "$chart" >/dev/null 2>&1; then
    echo "note: could not fetch the optional nats dependency; linting without it"
  fi
  helm lint "$chart" -f "$chart/ci/ci-values.yaml" || fail "helm lint"
  helm template taskorch "$chart" -f "$chart/ci/ci-values.yaml" >"$tmp/rendered.yaml" || fail "helm template"
  helm template taskorch "$chart" -f "$chart/ci/ci-values.yaml" \
    --set metrics.serviceMonitor.enabled=true,metrics.prometheusRule.enabled=true,worker.autoscaling.enabled=true,grafanaDashboard.enabled=true \
    >"$tmp/rendered-all.yaml" || fail "helm template (all optional resources)"
else
  echo "SKIPPED: helm is not on PATH (not installable on this machine). Run this script where helm 3 is"
  echo "         installed to lint and render deploy/helm/taskorch."
fi

if [ "$failed" -ne 0 ]; then
  printf '\ndeploy/check.sh: FAILED\n' >&2
  exit 1
fi
printf '\ndeploy/check.sh: all checks passed\n'
