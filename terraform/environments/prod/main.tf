# prod: three zones, NAT per zone, on-demand nodes, Multi-AZ data stores, deletion protection.
module "quizmesh" {
  source = "../../modules/stack"

  environment                    = "prod"
  vpc_cidr                       = "10.20.0.0/16"
  az_count                       = 3
  single_nat_gateway             = false
  eks_public_access_cidrs        = var.eks_public_access_cidrs
  node_instance_types            = ["m6i.large"]
  node_capacity_type             = "ON_DEMAND"
  node_min_size                  = 3
  node_max_size                  = 9
  node_desired_size              = 3
  postgres_instance_class        = "db.m6g.large"
  postgres_multi_az              = true
  postgres_backup_retention_days = 30
  redis_node_type                = "cache.m6g.large"
  redis_replicas                 = 1
  mq_instance_type               = "mq.m5.large"
  mq_cluster                     = true
  deletion_protection            = true
  github_repository              = var.github_repository
  # The dev environment usually created GitHub's OIDC provider in the account already.
  create_github_oidc_provider = var.create_github_oidc_provider
  smtp_host                   = var.smtp_host
  # Only CI pushes here: one full-commit-SHA tag per image, never overwritten.
  ecr_image_tag_mutability = "IMMUTABLE"
}
