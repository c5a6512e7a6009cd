data "aws_availability_zones" "available" {
  state = "available"
}

locals {
  azs = slice(data.aws_availability_zones.available.names, 0, var.az_count)
  # /20 per subnet from the VPC /16: public, private (nodes and pods), database, cache.
  public_subnets      = [for index in range(var.az_count) : cidrsubnet(var.cidr, 4, index)]
  private_subnets     = [for index in range(var.az_count) : cidrsubnet(var.cidr, 4, index + 4)]
  database_subnets    = [for index in range(var.az_count) : cidrsubnet(var.cidr, 4, index + 8)]
  elasticache_subnets = [for index in range(var.az_count) : cidrsubnet(var.cidr, 4, index + 12)]
}

module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.21.0"

  name = var.name
  cidr = var.cidr
  azs  = local.azs

  public_subnets      = local.public_subnets
  private_subnets     = local.private_subnets
  database_subnets    = local.database_subnets
  elasticache_subnets = local.elasticache_subnets

  create_database_subnet_group       = true
  create_elasticache_subnet_group    = true
  create_database_subnet_route_table = true

  enable_nat_gateway     = true
  single_nat_gateway     = var.single_nat_gateway
  one_nat_gateway_per_az = !var.single_nat_gateway
  enable_dns_hostnames   = true
  enable_dns_support     = true

  enable_flow_log                                 = var.enable_flow_log
  create_flow_log_cloudwatch_log_group            = var.enable_flow_log
  create_flow_log_cloudwatch_iam_role             = var.enable_flow_log
  flow_log_cloudwatch_log_group_retention_in_days = 30

  # Subnet discovery for the AWS load balancer integrations of EKS.
  public_subnet_tags  = { "kubernetes.io/role/elb" = "1" }
  private_subnet_tags = { "kubernetes.io/role/internal-elb" = "1" }

  tags = var.tags
}
