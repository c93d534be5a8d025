{{/* Chart name, truncated to the 63 characters of a DNS label. */}}
{{- define "taskorch.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name: <release>-<chart> unless the release name already contains the chart
name. Component resources append -scheduler, -coordinator or -worker, so keep room for them.
*/}}
{{- define "taskorch.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "taskorch.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every resource. */}}
{{- define "taskorch.labels" -}}
helm.sh/chart: {{ include "taskorch.chart" . }}
{{ include "taskorch.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: taskorch
{{- end }}

{{- define "taskorch.selectorLabels" -}}
app.kubernetes.io/name: {{ include "taskorch.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of one component: include "taskorch.componentLabels" (dict "root" $ "component" "worker") */}}
{{- define "taskorch.componentLabels" -}}
{{ include "taskorch.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "taskorch.componentSelectorLabels" -}}
{{ include "taskorch.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "taskorch.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "taskorch.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The image reference: repository@digest, or repository:tag (tag defaults to appVersion). */}}
{{- define "taskorch.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The Secret every component reads; installing without one fails with this message. */}}
{{- define "taskorch.secretName" -}}
{{- required "existingSecret is required: create a Secret with the DATABASE_URL key (and optionally a NATS URL with credentials) and set existingSecret to its name. The chart never creates secrets." .Values.existingSecret }}
{{- end }}

{{/* NATS URL when it is not read from the Secret: natsUrl, else the bundled NATS service. */}}
{{- define "taskorch.natsUrl" -}}
{{- if .Values.natsUrl }}
{{- .Values.natsUrl }}
{{- else if .Values.nats.enabled }}
{{- $full := .Values.nats.fullnameOverride }}
{{- if not $full }}
{{- $full = ternary .Release.Name (printf "%s-nats" .Release.Name) (contains "nats" .Release.Name) }}
{{- end }}
{{- printf "nats://%s.%s.svc:4222" ($full | trunc 63 | trimSuffix "-") .Release.Namespace }}
{{- else if not .Values.secretKeys.natsUrl }}
{{- fail "NATS is not configured: set natsUrl, or secretKeys.natsUrl (a key of existingSecret holding the URL with credentials), or nats.enabled=true" }}
{{- end }}
{{- end }}

{{/*
Environment shared by every component, after the ConfigMap (envFrom):
  include "taskorch.env" (dict "root" $ "component" "scheduler" "database" true)
*/}}
{{- define "taskorch.env" -}}
{{- $root := .root }}
- name: WORKER_ID   # the pod name: leader_status{worker_id} and worker lists name pods
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- if .database }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "taskorch.secretName" $root }}
      key: {{ $root.Values.secretKeys.databaseUrl }}
{{- end }}
{{- if $root.Values.secretKeys.natsUrl }}
- name: NATS_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "taskorch.secretName" $root }}
      key: {{ $root.Values.secretKeys.natsUrl }}
{{- end }}
- name: OTEL_SERVICE_NAME
  value: {{ printf "taskorch-%s" .component | quote }}
{{- with $root.Values.tracing.otlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ . | quote }}
{{- end }}
{{- end }}

{{/*
Security env, mounts and volumes of one component (docs/security.md): gRPC TLS and API tokens for
gRPC servers, NATS credentials for everyone. Call with (dict "root" . "component" "scheduler" "grpc" true).
*/}}
{{- define "taskorch.securityEnv" -}}
{{- $s := .root.Values.security }}
{{- if and .grpc $s.grpcTls.secretName }}
- name: GRPC_TLS_CERT_FILE
  value: /etc/taskorch/grpc-tls/tls.crt
- name: GRPC_TLS_KEY_FILE
  value: /etc/taskorch/grpc-tls/tls.key
{{- if $s.grpcTls.requireClientCert }}
- name: GRPC_TLS_CLIENT_CA_FILE
  value: /etc/taskorch/grpc-tls/ca.crt
{{- end }}
{{- end }}
{{- if and .grpc $s.authTokens.secretName }}
- name: AUTH_TOKENS_FILE
  value: {{ printf "/etc/taskorch/tokens/%s" $s.authTokens.key | quote }}
{{- end }}
{{- $n := index $s.nats .component }}
{{- if $n.secretName }}
{{- range $k, $v := $n.env }}
- name: {{ $k }}
  value: {{ $v | quote }}
{{- end }}
{{- end }}
{{- end }}

{{- define "taskorch.securityMounts" -}}
{{- $s := .root.Values.security }}
{{- if and .grpc $s.grpcTls.secretName }}
- name: grpc-tls
  mountPath: /etc/taskorch/grpc-tls
  readOnly: true
{{- end }}
{{- if and .grpc $s.authTokens.secretName }}
- name: auth-tokens
  mountPath: /etc/taskorch/tokens
  readOnly: true
{{- end }}
{{- if (index $s.nats .component).secretName }}
- name: nats-auth
  mountPath: /etc/taskorch/nats
  readOnly: true
{{- end }}
{{- end }}

{{- define "taskorch.securityVolumes" -}}
{{- $s := .root.Values.security }}
{{- if and .grpc $s.grpcTls.secretName }}
- name: grpc-tls
  secret:
    secretName: {{ $s.grpcTls.secretName }}
{{- end }}
{{- if and .grpc $s.authTokens.secretName }}
- name: auth-tokens
  secret:
    secretName: {{ $s.authTokens.secretName }}
{{- end }}
{{- with (index $s.nats .component).secretName }}
- name: nats-auth
  secret:
    secretName: {{ . }}
{{- end }}
{{- end }}

{{/* Pod-level settings shared by every component. */}}
{{- define "taskorch.podCommon" -}}
serviceAccountName: {{ include "taskorch.serviceAccountName" . }}
automountServiceAccountToken: {{ .Values.serviceAccount.automountServiceAccountToken }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
volumes:
  - name: tmp
    emptyDir: {}
{{- end }}

{{/* Pod annotations that roll the pods when the ConfigMap changes. */}}
{{- define "taskorch.configChecksum" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- end }}
