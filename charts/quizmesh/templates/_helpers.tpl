{{/* Release-scoped name prefix for every object. */}}
{{- define "quizmesh.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Name of a component object: quizmesh.name (dict "root" $ "name" "gateway"). */}}
{{- define "quizmesh.name" -}}
{{- printf "%s-%s" (include "quizmesh.fullname" .root) .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "quizmesh.commonLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: quizmesh
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{/* Selector labels: quizmesh.selectorLabels (dict "root" $ "name" "gateway" "component" "service"). */}}
{{- define "quizmesh.selectorLabels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "quizmesh.labels" -}}
{{ include "quizmesh.commonLabels" .root }}
{{ include "quizmesh.selectorLabels" . }}
{{- end -}}

{{/*
The merged settings of one service as YAML: serviceDefaults overlaid with services.<name>.
Usage: $svc := include "quizmesh.service" (dict "root" $ "name" $name) | fromYaml
*/}}
{{- define "quizmesh.service" -}}
{{- $entry := index .root.Values.services .name | default dict -}}
{{- mergeOverwrite (deepCopy .root.Values.serviceDefaults) (deepCopy $entry) | toYaml -}}
{{- end -}}

{{/* Sorted names of the enabled services. Usage: include "quizmesh.enabledServices" $ | fromYamlArray */}}
{{- define "quizmesh.enabledServices" -}}
{{- $names := list -}}
{{- range $name := keys .Values.services | sortAlpha -}}
{{- $svc := include "quizmesh.service" (dict "root" $ "name" $name) | fromYaml -}}
{{- if $svc.enabled -}}{{- $names = append $names $name -}}{{- end -}}
{{- end -}}
{{- toYaml $names -}}
{{- end -}}

{{/* Image of a service: quizmesh.image (dict "root" $ "name" "gateway" "svc" $svc). */}}
{{- define "quizmesh.image" -}}
{{- $img := .root.Values.image -}}
{{- $repository := .svc.image.repository | default (printf "%s%s" $img.repositoryPrefix .name) -}}
{{- if and $img.registry (not .svc.image.repository) -}}
{{- $repository = printf "%s/%s" (trimSuffix "/" $img.registry) $repository -}}
{{- end -}}
{{- $tag := .svc.image.tag | default $img.tag | default .root.Chart.AppVersion -}}
{{- printf "%s:%s" $repository $tag -}}
{{- end -}}

{{/* Pod-level security context shared by every workload. */}}
{{- define "quizmesh.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .uid | default 1000 }}
runAsGroup: {{ .gid | default 1000 }}
fsGroup: {{ .gid | default 1000 }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container-level hardening shared by every container ("writable" only for Tilt's live update). */}}
{{- define "quizmesh.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: {{ not .writable }}
runAsNonRoot: true
privileged: false
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Hostnames of the in-cluster backing services. */}}
{{- define "quizmesh.jaegerHost" -}}{{ include "quizmesh.name" (dict "root" . "name" "jaeger") }}{{- end -}}
{{- define "quizmesh.postgresHost" -}}{{ include "quizmesh.name" (dict "root" . "name" "postgres") }}{{- end -}}
{{- define "quizmesh.redisHost" -}}{{ include "quizmesh.name" (dict "root" . "name" "redis") }}{{- end -}}
{{- define "quizmesh.rabbitmqHost" -}}{{ include "quizmesh.name" (dict "root" . "name" "rabbitmq") }}{{- end -}}
{{- define "quizmesh.mailpitHost" -}}{{ include "quizmesh.name" (dict "root" . "name" "mailpit") }}{{- end -}}

{{/* Secrets consumed by the services (generated in-cluster or existing). */}}
{{- define "quizmesh.rabbitmqSecret" -}}
{{- if .Values.backends.rabbitmq.existingSecret -}}{{ .Values.backends.rabbitmq.existingSecret }}
{{- else if .Values.backing.rabbitmq.enabled -}}{{ include "quizmesh.rabbitmqHost" . }}
{{- else -}}{{ fail "backends.rabbitmq.existingSecret is required when backing.rabbitmq.enabled is false" }}
{{- end -}}
{{- end -}}

{{- define "quizmesh.redisSecret" -}}
{{- if .Values.backends.redis.existingSecret -}}{{ .Values.backends.redis.existingSecret }}
{{- else if .Values.backing.redis.enabled -}}{{ include "quizmesh.redisHost" . }}
{{- else -}}{{ fail "backends.redis.existingSecret is required when backing.redis.enabled is false" }}
{{- end -}}
{{- end -}}

{{- define "quizmesh.redisAddress" -}}
{{- if .Values.backends.redis.host -}}{{ .Values.backends.redis.host }}
{{- else if .Values.backing.redis.enabled -}}{{ include "quizmesh.redisHost" . }}:6379
{{- else -}}{{ fail "backends.redis.host is required when backing.redis.enabled is false" }}
{{- end -}}
{{- end -}}

{{/* Database URL secret of a service: quizmesh.databaseSecret (dict "root" $ "name" $name "svc" $svc). */}}
{{- define "quizmesh.databaseSecret" -}}
{{- if .svc.database.existingSecret -}}{{ .svc.database.existingSecret }}
{{- else if .root.Values.backing.postgres.enabled -}}{{ include "quizmesh.name" (dict "root" .root "name" (printf "%s-database" .name)) }}
{{- else -}}{{ fail (printf "services.%s.database.existingSecret is required when backing.postgres.enabled is false" .name) }}
{{- end -}}
{{- end -}}

{{- define "quizmesh.collectorHost" -}}{{ include "quizmesh.name" (dict "root" . "name" "otel-collector") }}{{- end -}}
{{- define "quizmesh.prometheusHost" -}}{{ include "quizmesh.name" (dict "root" . "name" "prometheus") }}{{- end -}}
{{- define "quizmesh.grafanaHost" -}}{{ include "quizmesh.name" (dict "root" . "name" "grafana") }}{{- end -}}

{{/* Where apps and daprd send OTLP: the explicit endpoint, else the in-cluster collector, else Jaeger (traces only). */}}
{{- define "quizmesh.otelEndpoint" -}}
{{- if .Values.otel.endpoint -}}{{ .Values.otel.endpoint }}
{{- else if .Values.observability.collector.enabled -}}http://{{ include "quizmesh.collectorHost" . }}:4318
{{- else if .Values.backing.jaeger.enabled -}}http://{{ include "quizmesh.jaegerHost" . }}:4318
{{- end -}}
{{- end -}}

{{- define "quizmesh.daprOtlpEndpoint" -}}
{{- if .Values.dapr.tracing.otlpGrpcEndpoint -}}{{ .Values.dapr.tracing.otlpGrpcEndpoint }}
{{- else if .Values.observability.collector.enabled -}}{{ include "quizmesh.collectorHost" . }}:4317
{{- else if .Values.backing.jaeger.enabled -}}{{ include "quizmesh.jaegerHost" . }}:4317
{{- end -}}
{{- end -}}

{{/* The selector labels of an observability component: quizmesh.observabilitySelector (dict "root" $ "name" "prometheus"). */}}
{{- define "quizmesh.observabilitySelector" -}}
{{ include "quizmesh.selectorLabels" (dict "root" .root "name" .name "component" "observability") }}
{{- end -}}

{{/*
A password kept across upgrades: reuses the value already stored in the Secret (lookup), else
generates one. Usage: include "quizmesh.persistentPassword" (dict "root" $ "secret" $name "key" "password")
*/}}
{{- define "quizmesh.persistentPassword" -}}
{{- $existing := lookup "v1" "Secret" .root.Release.Namespace .secret -}}
{{- if and $existing $existing.data (hasKey $existing.data .key) -}}
{{- index $existing.data .key | b64dec -}}
{{- else -}}
{{- randAlphaNum 32 -}}
{{- end -}}
{{- end -}}

{{/* Apps that use pub/sub: publishers and consumers of enabled services. */}}
{{- define "quizmesh.pubsubApps" -}}
{{- $enabled := include "quizmesh.enabledServices" . | fromYamlArray -}}
{{- $apps := list -}}
{{- range .Values.events -}}
{{- range (prepend .consumers .publisher) -}}
{{- if has . $enabled -}}{{- $apps = append $apps . -}}{{- end -}}
{{- end -}}
{{- end -}}
{{- $apps | uniq | sortAlpha | toYaml -}}
{{- end -}}

{{/*
One egress rule to a backend: the in-cluster pod, or the external CIDRs (never an empty `to`,
which would mean "anywhere").
Usage: include "quizmesh.backendEgress" (dict "root" $ "inCluster" bool "name" "postgres" "port" 5432 "externalPort" 5432 "cidrs" list)
*/}}
{{- define "quizmesh.backendEgress" -}}
{{- if .inCluster -}}
- to:
    - podSelector:
        matchLabels:
          {{- include "quizmesh.selectorLabels" (dict "root" .root "name" .name "component" "backing") | nindent 10 }}
  ports:
    - { protocol: TCP, port: {{ .port }} }
{{- else if .cidrs -}}
- to:
    {{- range .cidrs }}
    - ipBlock: { cidr: {{ . }} }
    {{- end }}
  ports:
    - { protocol: TCP, port: {{ .externalPort }} }
{{- else -}}
{{- fail (printf "networkPolicy: the %s backend is external, so its CIDRs (networkPolicy.externalBackendCidrs / smtpCidrs) are required" .name) -}}
{{- end -}}
{{- end -}}

{{/*
The Secrets holding an app's Dapr tokens (key `token`, as the injector expects): the API token
its sidecar requires from callers (dapr.io/api-token-secret), and the app token the sidecar
presents to the app (dapr.io/app-token-secret). Usage: include "quizmesh.daprTokenSecret" (dict "root" $ "name" $name "kind" "api"|"app")
*/}}
{{- define "quizmesh.daprTokenSecret" -}}
{{ include "quizmesh.name" (dict "root" .root "name" (printf "%s-%s-token" .name .kind)) }}
{{- end -}}
