{{/*
Names. The full name is cut to 40 characters so that the longest derived name,
`<fullname>-broker-headless`, and the StatefulSet's pod names stay within DNS label limits.
*/}}
{{- define "sluice.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 40 | trimSuffix "-" }}
{{- end }}

{{- define "sluice.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "sluice.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "sluice.operator.fullname" -}}
{{- printf "%s-operator" (include "sluice.fullname" .) }}
{{- end }}

{{- define "sluice.broker.fullname" -}}
{{- printf "%s-broker" (include "sluice.fullname" .) }}
{{- end }}

{{/* Headless Service of the brokers: gives each broker pod its stable DNS name. */}}
{{- define "sluice.broker.headlessServiceName" -}}
{{- printf "%s-broker-headless" (include "sluice.fullname" .) }}
{{- end }}

{{- define "sluice.operator.serviceAccountName" -}}
{{- if .Values.operator.serviceAccount.create }}
{{- default (include "sluice.operator.fullname" .) .Values.operator.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.operator.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "sluice.leaseName" -}}
{{- default (include "sluice.operator.fullname" .) .Values.operator.leaseName }}
{{- end }}

{{/*
Labels. `app.kubernetes.io/component` is `operator` or `broker`; the operator finds its brokers
by the broker selector labels (see sluice.brokerSelector).
*/}}
{{- define "sluice.labels" -}}
helm.sh/chart: {{ include "sluice.chart" . }}
{{ include "sluice.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: sluice
{{- end }}

{{- define "sluice.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sluice.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "sluice.operator.selectorLabels" -}}
{{ include "sluice.selectorLabels" . }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "sluice.broker.selectorLabels" -}}
{{ include "sluice.selectorLabels" . }}
app.kubernetes.io/component: broker
{{- end }}

{{/* The operator's --broker-selector: exactly the broker pods of this release. */}}
{{- define "sluice.brokerSelector" -}}
{{- $parts := list }}
{{- range $k, $v := (include "sluice.broker.selectorLabels" . | fromYaml) }}
{{- $parts = append $parts (printf "%s=%s" $k $v) }}
{{- end }}
{{- join "," (sortAlpha $parts) }}
{{- end }}

{{- define "sluice.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/*
The controller address brokers dial: the operator Service, whose only endpoint is the Ready
operator pod, the active controller. POD_NAMESPACE comes from the downward API.
*/}}
{{- define "sluice.controllerAddress" -}}
{{- printf "%s.$(POD_NAMESPACE).svc:%d" (include "sluice.operator.fullname" .) (int .Values.operator.grpcPort) }}
{{- end }}

{{/*
Grace period of a broker pod: the preStop sleep, the controlled shutdown bound, the in-flight
drain bound, plus 15 s to close the logs cleanly (so the next start needs no recovery). The
kubelet's SIGKILL must never cut a controlled shutdown short.
*/}}
{{- define "sluice.broker.terminationGracePeriodSeconds" -}}
{{- $b := .Values.broker }}
{{- add (int $b.preStopSleepSeconds) (div (add (int64 $b.controlledShutdownTimeoutMs) 999) 1000) (div (add (int64 $b.shutdownTimeoutMs) 999) 1000) 15 }}
{{- end }}

{{/* Environment every Sluice container gets: its own pod name and namespace, and the log level. */}}
{{- define "sluice.commonEnv" -}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: SLUICE_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
{{- end }}
