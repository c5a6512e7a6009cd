output "vpc_id" {
  description = "ID of the VPC."
  value       = module.vpc.vpc_id
}

output "vpc_cidr_block" {
  description = "CIDR of the VPC (the chart's networkPolicy.externalBackendCidrs)."
  value       = module.vpc.vpc_cidr_block
}

output "private_subnet_ids" {
  description = "Private subnets for EKS nodes and Amazon MQ."
  value       = module.vpc.private_subnets
}

output "public_subnet_ids" {
  description = "Public subnets for internet-facing load balancers."
  value       = module.vpc.public_subnets
}

output "database_subnet_group_name" {
  description = "RDS subnet group of the database subnets."
  value       = module.vpc.database_subnet_group_name
}

output "elasticache_subnet_group_name" {
  description = "ElastiCache subnet group of the cache subnets."
  value       = module.vpc.elasticache_subnet_group_name
}
