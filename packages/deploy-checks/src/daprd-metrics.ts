/**
 * The metric families daprd exposes on its metrics port (dapr.io/metrics-port, 9090), taken from
 * dapr/dapr v1.16.2 (the control plane pinned in Chart.yaml's quizmesh.io/dapr-version):
 * pkg/diagnostics/{http,grpc,component,resiliency,service}_monitoring.go declare OpenCensus
 * measures and their views (view name = measure name); pkg/metrics/exporter.go serves them through
 * the OpenCensus Prometheus exporter with namespace "dapr", which joins namespace and view name
 * with "_" and turns every other invalid character into "_" ("http/server/request_count" ->
 * dapr_http_server_request_count). view.Count() is a counter without a `_total` suffix, a
 * distribution a histogram, view.LastValue() a gauge. The HTTP "response_count" view exists only
 * with legacy HTTP metrics and is left out. The exporter registers on client_golang's default
 * registry, so its Go and process collectors are served too (a few listed below).
 */
export type DaprdMetricType = 'counter' | 'gauge' | 'histogram';

export interface DaprdMetric {
  name: string;
  type: DaprdMetricType;
}

export const DAPRD_VERSION = '1.16.2';

export const DAPRD_METRICS: readonly DaprdMetric[] = [
  // pkg/diagnostics/component_monitoring.go
  { name: 'dapr_component_pubsub_ingress_latencies', type: 'histogram' },
  { name: 'dapr_component_pubsub_ingress_count', type: 'counter' },
  { name: 'dapr_component_pubsub_ingress_bulk_latencies', type: 'histogram' },
  { name: 'dapr_component_pubsub_ingress_bulk_count', type: 'counter' },
  { name: 'dapr_component_pubsub_ingress_bulk_event_count', type: 'counter' },
  { name: 'dapr_component_pubsub_egress_latencies', type: 'histogram' },
  { name: 'dapr_component_pubsub_egress_count', type: 'counter' },
  { name: 'dapr_component_pubsub_egress_bulk_latencies', type: 'histogram' },
  { name: 'dapr_component_pubsub_egress_bulk_count', type: 'counter' },
  { name: 'dapr_component_input_binding_latencies', type: 'histogram' },
  { name: 'dapr_component_input_binding_count', type: 'counter' },
  { name: 'dapr_component_output_binding_latencies', type: 'histogram' },
  { name: 'dapr_component_output_binding_count', type: 'counter' },
  { name: 'dapr_component_state_latencies', type: 'histogram' },
  { name: 'dapr_component_state_count', type: 'counter' },
  { name: 'dapr_component_configuration_latencies', type: 'histogram' },
  { name: 'dapr_component_configuration_count', type: 'counter' },
  { name: 'dapr_component_secret_latencies', type: 'histogram' },
  { name: 'dapr_component_secret_count', type: 'counter' },
  { name: 'dapr_component_conversation_latencies', type: 'histogram' },
  { name: 'dapr_component_conversation_count', type: 'counter' },
  { name: 'dapr_component_crypto_latencies', type: 'histogram' },
  { name: 'dapr_component_crypto_count', type: 'counter' },
  // pkg/diagnostics/grpc_monitoring.go
  { name: 'dapr_grpc_io_server_received_bytes_per_rpc', type: 'histogram' },
  { name: 'dapr_grpc_io_server_sent_bytes_per_rpc', type: 'histogram' },
  { name: 'dapr_grpc_io_server_server_latency', type: 'histogram' },
  { name: 'dapr_grpc_io_server_completed_rpcs', type: 'counter' },
  { name: 'dapr_grpc_io_client_sent_bytes_per_rpc', type: 'histogram' },
  { name: 'dapr_grpc_io_client_received_bytes_per_rpc', type: 'histogram' },
  { name: 'dapr_grpc_io_client_roundtrip_latency', type: 'histogram' },
  { name: 'dapr_grpc_io_client_completed_rpcs', type: 'counter' },
  { name: 'dapr_grpc_io_healthprobes_roundtrip_latency', type: 'histogram' },
  { name: 'dapr_grpc_io_healthprobes_completed_count', type: 'counter' },
  // pkg/diagnostics/http_monitoring.go
  { name: 'dapr_http_server_request_bytes', type: 'histogram' },
  { name: 'dapr_http_server_response_bytes', type: 'histogram' },
  { name: 'dapr_http_server_latency', type: 'histogram' },
  { name: 'dapr_http_server_request_count', type: 'counter' },
  { name: 'dapr_http_client_sent_bytes', type: 'histogram' },
  { name: 'dapr_http_client_received_bytes', type: 'histogram' },
  { name: 'dapr_http_client_roundtrip_latency', type: 'histogram' },
  { name: 'dapr_http_client_completed_count', type: 'counter' },
  { name: 'dapr_http_healthprobes_roundtrip_latency', type: 'histogram' },
  { name: 'dapr_http_healthprobes_completed_count', type: 'counter' },
  // pkg/diagnostics/resiliency_monitoring.go
  { name: 'dapr_resiliency_loaded', type: 'counter' },
  { name: 'dapr_resiliency_count', type: 'counter' },
  { name: 'dapr_resiliency_activations_total', type: 'counter' },
  { name: 'dapr_resiliency_cb_state', type: 'gauge' },
  // pkg/diagnostics/service_monitoring.go
  { name: 'dapr_runtime_component_loaded', type: 'counter' },
  { name: 'dapr_runtime_component_init_total', type: 'counter' },
  { name: 'dapr_runtime_component_init_fail_total', type: 'counter' },
  { name: 'dapr_runtime_mtls_init_total', type: 'counter' },
  { name: 'dapr_runtime_mtls_init_fail_total', type: 'counter' },
  { name: 'dapr_runtime_mtls_workload_cert_rotated_total', type: 'counter' },
  { name: 'dapr_runtime_mtls_workload_cert_rotated_fail_total', type: 'counter' },
  { name: 'dapr_runtime_actor_status_report_total', type: 'counter' },
  { name: 'dapr_runtime_actor_status_report_fail_total', type: 'counter' },
  { name: 'dapr_runtime_actor_table_operation_recv_total', type: 'counter' },
  { name: 'dapr_runtime_actor_rebalanced_total', type: 'counter' },
  { name: 'dapr_runtime_actor_deactivated_total', type: 'counter' },
  { name: 'dapr_runtime_actor_deactivated_failed_total', type: 'counter' },
  { name: 'dapr_runtime_actor_pending_actor_calls', type: 'gauge' },
  { name: 'dapr_runtime_actor_timers', type: 'gauge' },
  { name: 'dapr_runtime_actor_reminders', type: 'gauge' },
  { name: 'dapr_runtime_actor_reminders_fired_total', type: 'counter' },
  { name: 'dapr_runtime_actor_timers_fired_total', type: 'counter' },
  { name: 'dapr_runtime_acl_app_policy_action_allowed_total', type: 'counter' },
  { name: 'dapr_runtime_acl_global_policy_action_allowed_total', type: 'counter' },
  { name: 'dapr_runtime_acl_app_policy_action_blocked_total', type: 'counter' },
  { name: 'dapr_runtime_acl_global_policy_action_blocked_total', type: 'counter' },
  { name: 'dapr_runtime_service_invocation_req_sent_total', type: 'counter' },
  { name: 'dapr_runtime_service_invocation_req_recv_total', type: 'counter' },
  { name: 'dapr_runtime_service_invocation_res_sent_total', type: 'counter' },
  { name: 'dapr_runtime_service_invocation_res_recv_total', type: 'counter' },
  { name: 'dapr_runtime_service_invocation_res_recv_latency_ms', type: 'histogram' },
  // client_golang's default registry (process and Go collectors).
  { name: 'process_cpu_seconds_total', type: 'counter' },
  { name: 'process_resident_memory_bytes', type: 'gauge' },
  { name: 'process_open_fds', type: 'gauge' },
  { name: 'go_goroutines', type: 'gauge' },
];

/** Every series name daprd's metrics port serves (histograms as `_bucket`, `_sum`, `_count`). */
export function daprdSeriesNames(): string[] {
  return DAPRD_METRICS.flatMap(({ name, type }) =>
    type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name],
  );
}
