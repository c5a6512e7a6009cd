resource "aws_security_group" "postgres" {
  name_prefix = "${var.name}-postgres-"
  description = "PostgreSQL reachable from the EKS nodes only"
  vpc_id      = var.vpc_id
  tags        = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "postgres_from_clients" {
  for_each                     = toset(var.allowed_security_group_ids)
  security_group_id            = aws_security_group.postgres.id
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  description                  = "PostgreSQL from ${each.value}"
}

resource "aws_db_parameter_group" "postgres" {
  name_prefix = "${var.name}-postgres-"
  family      = "postgres${split(".", var.engine_version)[0]}"
  description = "Quizmesh PostgreSQL: TLS only"
  tags        = var.tags

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_db_instance" "postgres" {
  identifier     = "${var.name}-postgres"
  engine         = "postgres"
  engine_version = var.engine_version
  instance_class = var.instance_class

  allocated_storage     = var.allocated_storage_gb
  max_allocated_storage = var.allocated_storage_gb * 4
  storage_type          = "gp3"
  storage_encrypted     = true

  db_name  = "postgres"
  username = "quizmesh_admin"
  # RDS keeps the master password in Secrets Manager and rotates it; it never enters the state.
  manage_master_user_password = true

  db_subnet_group_name   = var.subnet_group_name
  vpc_security_group_ids = [aws_security_group.postgres.id]
  parameter_group_name   = aws_db_parameter_group.postgres.name
  publicly_accessible    = false
  multi_az               = var.multi_az

  backup_retention_period   = var.backup_retention_days
  backup_window             = "02:00-03:00"
  maintenance_window        = "sun:03:30-sun:04:30"
  copy_tags_to_snapshot     = true
  delete_automated_backups  = false
  deletion_protection       = var.deletion_protection
  skip_final_snapshot       = !var.deletion_protection
  final_snapshot_identifier = var.deletion_protection ? "${var.name}-postgres-final" : null

  auto_minor_version_upgrade      = true
  performance_insights_enabled    = true
  enabled_cloudwatch_logs_exports = ["postgresql"]

  tags = var.tags
}

# One login role and database per service. Terraform cannot reach the private instance, so the
# roles are created by the bootstrap step in docs/deploy-eks.md from these secrets.
resource "random_password" "service" {
  for_each = toset(var.service_databases)
  length   = 32
  special  = false
}

resource "aws_secretsmanager_secret" "service_database" {
  for_each                = toset(var.service_databases)
  name                    = "${var.secret_prefix}/${each.value}-database"
  description             = "DATABASE_URL of the ${each.value} service"
  recovery_window_in_days = var.deletion_protection ? 30 : 0
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "service_database" {
  for_each  = toset(var.service_databases)
  secret_id = aws_secretsmanager_secret.service_database[each.value].id
  secret_string = jsonencode({
    username = each.value
    password = random_password.service[each.value].result
    database = each.value
    url      = "postgresql://${each.value}:${random_password.service[each.value].result}@${aws_db_instance.postgres.address}:${aws_db_instance.postgres.port}/${each.value}?sslmode=verify-full&sslrootcert=/app/certs/rds-ca-bundle.pem"
  })
}
