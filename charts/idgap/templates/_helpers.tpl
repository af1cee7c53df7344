{{/* Chart name, truncated to the 63 characters a label value may hold. */}}
{{- define "idgap.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name of the release's objects. */}}
{{- define "idgap.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "idgap.selectorLabels" -}}
app.kubernetes.io/name: {{ include "idgap.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "idgap.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "idgap.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: idgap
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "idgap.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "idgap.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "idgap.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end }}
{{- end }}

{{/*
Checks values.schema.json cannot express, and a second line of defence for the ones it does
(helm's --skip-schema-validation skips the schema, not these).
*/}}
{{- define "idgap.validate" -}}
{{- if and (gt (int .Values.replicas) 1) (not .Values.leaderElection.enabled) }}
{{- fail "replicas > 1 needs leaderElection.enabled=true: without a Lease every replica would sync the same orgs and write the same findings" }}
{{- end }}
{{- if not (has .Values.logFormat (list "json" "text")) }}
{{- fail (printf "logFormat must be json or text, not %q" (toString .Values.logFormat)) }}
{{- end }}
{{- end }}

{{/*
The operator's permissions, used by the cluster-wide ClusterRole or by one Role per watched
namespace. Every rule says why it is needed.
*/}}
{{- define "idgap.operatorRules" -}}
# Reconcile the integrations and directories: read them and watch for changes.
- apiGroups: ["idgap.io"]
  resources: ["salesforceintegrations", "identityproviders"]
  verbs: ["get", "list", "watch"]
# Report conditions, counts and sync times. Status only: the operator never edits a spec.
- apiGroups: ["idgap.io"]
  resources: ["salesforceintegrations/status", "identityproviders/status"]
  verbs: ["patch"]
# Findings are the operator's output: written by server-side apply (create + patch), listed to
# prune the ones a complete sync no longer produces (delete), watched for its own cache.
- apiGroups: ["idgap.io"]
  resources: ["accessfindings"]
  verbs: ["create", "get", "list", "watch", "patch", "delete"]
# Credentials: read the Secrets that spec.*.{name,key} references name; list/watch so that a
# changed Secret triggers a re-sync.{{ if .Values.rbac.secretWrite }} patch: write back a
# Salesforce refresh token that the org rotated (rbac.secretWrite).{{ end }}
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch"{{ if .Values.rbac.secretWrite }}, "patch"{{ end }}]
# Events on the resources it reconciles (sync failures, resolved findings).
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end }}
