resource "aws_security_group" "mq" {
  name_prefix = "${var.name}-mq-"
  description = "Amazon MQ (RabbitMQ) reachable from the EKS nodes only"
  vpc_id      = var.vpc_id
  tags        = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "amqps_from_clients" {
  for_each                     = toset(var.allowed_security_group_ids)
  security_group_id            = aws_security_group.mq.id
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = 5671
  to_port                      = 5671
  description                  = "AMQPS from ${each.value}"
}

resource "random_password" "broker" {
  length  = 32
  special = false
}

resource "aws_mq_broker" "rabbitmq" {
  broker_name        = "${var.name}-rabbitmq"
  engine_type        = "RabbitMQ"
  engine_version     = var.engine_version
  host_instance_type = var.instance_type
  deployment_mode    = var.cluster ? "CLUSTER_MULTI_AZ" : "SINGLE_INSTANCE"
  # A cluster spans the zones itself; a single instance lives in one private subnet.
  subnet_ids          = var.cluster ? var.subnet_ids : slice(var.subnet_ids, 0, 1)
  security_groups     = [aws_security_group.mq.id]
  publicly_accessible = false

  auto_minor_version_upgrade = true
  apply_immediately          = false

  maintenance_window_start_time {
    day_of_week = "SUNDAY"
    time_of_day = "05:00"
    time_zone   = "UTC"
  }

  logs {
    general = true
  }

  user {
    username = "quizmesh"
    password = random_password.broker.result
  }

  tags = var.tags
}

locals {
  # amqps://b-<id>.mq.<region>.amazonaws.com:5671
  amqps_endpoint = aws_mq_broker.rabbitmq.instances[0].endpoints[0]
}

resource "aws_secretsmanager_secret" "rabbitmq" {
  name                    = "${var.secret_prefix}/rabbitmq"
  description             = "Amazon MQ connection string for the Dapr pubsub.rabbitmq component"
  # No recovery window without deletion protection (dev): destroy + apply must be able to reuse the name.
  recovery_window_in_days = var.deletion_protection ? 30 : 0
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "rabbitmq" {
  secret_id = aws_secretsmanager_secret.rabbitmq.id
  secret_string = jsonencode({
    connectionString = replace(local.amqps_endpoint, "amqps://", "amqps://quizmesh:${random_password.broker.result}@")
  })
}
