# The whole Quizmesh AWS footprint of one environment; environments/<env> only choose sizes.
locals {
  name          = "${var.project}-${var.environment}"
  secret_prefix = "${var.project}/${var.environment}"
  tags = merge(var.tags, {
    Project     = var.project
    Environment = var.environment
    ManagedBy   = "terraform"
  })
  database_services = ["identity", "quiz", "evaluation"]
}

module "network" {
  source             = "../network"
  name               = local.name
  cidr               = var.vpc_cidr
  az_count           = var.az_count
  single_nat_gateway = var.single_nat_gateway
  tags               = local.tags
}

module "eks" {
  source              = "../eks"
  name                = local.name
  kubernetes_version  = var.kubernetes_version
  vpc_id              = module.network.vpc_id
  subnet_ids          = module.network.private_subnet_ids
  public_access_cidrs = var.eks_public_access_cidrs
  node_instance_types = var.node_instance_types
  node_capacity_type  = var.node_capacity_type
  node_min_size       = var.node_min_size
  node_max_size       = var.node_max_size
  node_desired_size   = var.node_desired_size
  tags                = local.tags
}

module "postgres" {
  source                     = "../postgres"
  name                       = local.name
  vpc_id                     = module.network.vpc_id
  subnet_group_name          = module.network.database_subnet_group_name
  allowed_security_group_ids = [module.eks.node_security_group_id]
  instance_class             = var.postgres_instance_class
  multi_az                   = var.postgres_multi_az
  backup_retention_days      = var.postgres_backup_retention_days
  deletion_protection        = var.deletion_protection
  service_databases          = local.database_services
  secret_prefix              = local.secret_prefix
  tags                       = local.tags
}

module "redis" {
  source                     = "../redis"
  name                       = local.name
  vpc_id                     = module.network.vpc_id
  subnet_group_name          = module.network.elasticache_subnet_group_name
  allowed_security_group_ids = [module.eks.node_security_group_id]
  node_type                  = var.redis_node_type
  replicas                   = var.redis_replicas
  secret_prefix              = local.secret_prefix
  deletion_protection        = var.deletion_protection
  tags                       = local.tags
}

module "mq" {
  source                     = "../mq"
  name                       = local.name
  vpc_id                     = module.network.vpc_id
  subnet_ids                 = module.network.private_subnet_ids
  allowed_security_group_ids = [module.eks.node_security_group_id]
  instance_type              = var.mq_instance_type
  cluster                    = var.mq_cluster
  secret_prefix              = local.secret_prefix
  deletion_protection        = var.deletion_protection
  tags                       = local.tags
}

module "ecr" {
  source               = "../ecr"
  services             = var.services
  repository_prefix    = var.project
  image_tag_mutability = var.ecr_image_tag_mutability
  force_delete         = !var.deletion_protection
  tags                 = local.tags
}

module "github_oidc" {
  source               = "../github-oidc"
  count                = var.github_repository == "" ? 0 : 1
  repository           = var.github_repository
  repository_arns      = module.ecr.repository_arns
  role_name            = "${local.name}-github-ecr-push"
  create_oidc_provider = var.create_github_oidc_provider
  tags                 = local.tags
}
