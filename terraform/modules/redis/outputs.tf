output "primary_endpoint" {
  description = "host:port of the primary (the chart's backends.redis.host)."
  value       = "${aws_elasticache_replication_group.redis.primary_endpoint_address}:6379"
}

output "secret_arn" {
  description = "Secrets Manager secret with keys password and url."
  value       = aws_secretsmanager_secret.redis.arn
}

output "security_group_id" {
  description = "Security group of the cache."
  value       = aws_security_group.redis.id
}
