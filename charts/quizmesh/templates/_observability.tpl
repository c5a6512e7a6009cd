{{/*
OpenTelemetry Collector configuration (contrib distribution, pinned in values.observability.collector.image).
Metrics leave through the prometheus exporter with resource attributes as labels (service_name,
service_namespace, service_instance_id, ...), so dashboards filter by service without a join on
target_info. Usage: include "quizmesh.collectorConfig" (dict "root" $ "tracesEndpoint" "host:4317")
*/}}
{{- define "quizmesh.collectorConfig" -}}
receivers:
  otlp:
    protocols:
      grpc: { endpoint: '0.0.0.0:4317' }
      http: { endpoint: '0.0.0.0:4318' }
processors:
  # Refuse data (the senders retry) before the container's memory limit is reached.
  memory_limiter: { check_interval: 1s, limit_percentage: 80, spike_limit_percentage: 20 }
  batch: {}
exporters:
  {{- if .tracesEndpoint }}
  otlp/traces:
    endpoint: {{ .tracesEndpoint | quote }}
    tls: { insecure: true }
  {{- end }}
  prometheus:
    endpoint: '0.0.0.0:8889'
    resource_to_telemetry_conversion: { enabled: true }
extensions:
  health_check: { endpoint: '0.0.0.0:13133' }
service:
  extensions: [health_check]
  telemetry:
    metrics: { level: none }
  pipelines:
    {{- if .tracesEndpoint }}
    traces:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [otlp/traces]
    {{- end }}
    metrics:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [prometheus]
{{- end -}}

{{/*
Prometheus configuration: the collector's exporter (honor_labels keeps the job/instance it derives
from service.namespace/service.name and service.instance.id) and every daprd of this release,
found through the pods API (the injector names the sidecar's metrics port dapr-metrics).
*/}}
{{- define "quizmesh.prometheusConfig" -}}
{{- $o := .Values.observability -}}
global:
  scrape_interval: {{ $o.prometheus.scrapeInterval }}
  evaluation_interval: {{ $o.prometheus.scrapeInterval }}
scrape_configs:
  {{- if $o.collector.enabled }}
  - job_name: otel-collector
    honor_labels: true
    static_configs:
      - targets: [{{ printf "%s:8889" (include "quizmesh.collectorHost" .) | quote }}]
  {{- end }}
  - job_name: daprd
    kubernetes_sd_configs:
      - role: pod
        namespaces: { names: [{{ .Release.Namespace | quote }}] }
        selectors:
          - role: pod
            label: {{ printf "app.kubernetes.io/instance=%s,quizmesh.io/dapr=true" .Release.Name | quote }}
    relabel_configs:
      - source_labels: [__meta_kubernetes_pod_container_port_name]
        regex: dapr-metrics
        action: keep
      - source_labels: [__meta_kubernetes_pod_annotation_dapr_io_app_id]
        target_label: app_id
      - source_labels: [__meta_kubernetes_pod_name]
        target_label: pod
      - source_labels: [__meta_kubernetes_namespace]
        target_label: namespace
{{- end -}}

{{/* Grafana datasources: Prometheus (default) and, with the in-cluster Jaeger, its query API for traces. */}}
{{- define "quizmesh.grafanaDatasources" -}}
apiVersion: 1
datasources:
  {{- if .Values.observability.prometheus.enabled }}
  - name: Prometheus
    uid: prometheus
    type: prometheus
    access: proxy
    isDefault: true
    editable: false
    url: {{ printf "http://%s:9090" (include "quizmesh.prometheusHost" .) | quote }}
  {{- end }}
  {{- if .Values.backing.jaeger.enabled }}
  - name: Jaeger
    uid: jaeger
    type: jaeger
    access: proxy
    editable: false
    url: {{ printf "http://%s:16686" (include "quizmesh.jaegerHost" .) | quote }}
  {{- end }}
{{- end -}}
