# dev: smallest sizes, one NAT gateway, spot nodes, no deletion protection.
module "quizmesh" {
  source = "../../modules/stack"

  environment                 = "dev"
  vpc_cidr                    = "10.10.0.0/16"
  az_count                    = 2
  single_nat_gateway          = true
  eks_public_access_cidrs     = var.eks_public_access_cidrs
  node_instance_types         = ["t3.large", "t3a.large"]
  node_capacity_type          = "SPOT"
  node_min_size               = 2
  node_max_size               = 4
  node_desired_size           = 2
  postgres_instance_class     = "db.t4g.micro"
  postgres_multi_az           = false
  redis_node_type             = "cache.t4g.micro"
  redis_replicas              = 0
  mq_instance_type            = "mq.t3.micro"
  mq_cluster                  = false
  deletion_protection         = false
  github_repository           = var.github_repository
  create_github_oidc_provider = var.create_github_oidc_provider
  smtp_host                   = var.smtp_host
  # skaffold run -p eks re-pushes <commit>-dirty tags (the chart pins each image by digest).
  ecr_image_tag_mutability = "MUTABLE"
}
