output "address" {
  description = "Host name of the PostgreSQL instance."
  value       = aws_db_instance.postgres.address
}

output "port" {
  description = "Port of the PostgreSQL instance."
  value       = aws_db_instance.postgres.port
}

output "master_user_secret_arn" {
  description = "Secrets Manager secret holding the RDS-managed master credentials (bootstrap only)."
  value       = aws_db_instance.postgres.master_user_secret[0].secret_arn
}

output "service_database_secret_arns" {
  description = "Secrets Manager secret per service with its DATABASE_URL (key url)."
  value       = { for service, secret in aws_secretsmanager_secret.service_database : service => secret.arn }
}

output "security_group_id" {
  description = "Security group of the instance."
  value       = aws_security_group.postgres.id
}
