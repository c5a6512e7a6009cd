output "amqps_endpoint" {
  description = "AMQPS endpoint of the broker (no credentials)."
  value       = local.amqps_endpoint
}

output "secret_arn" {
  description = "Secrets Manager secret with key connectionString."
  value       = aws_secretsmanager_secret.rabbitmq.arn
}

output "security_group_id" {
  description = "Security group of the broker."
  value       = aws_security_group.mq.id
}
