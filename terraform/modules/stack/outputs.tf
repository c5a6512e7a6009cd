output "cluster_name" {
  description = "EKS cluster name."
  value       = module.eks.cluster_name
}

output "ecr_registry" {
  description = "ECR registry host: skaffold --default-repo and the chart's image.registry."
  value       = module.ecr.registry
}

output "github_ci_role_arn" {
  description = "Role for the CI image push (repository variable AWS_ROLE_ARN); empty without github_repository."
  value       = length(module.github_oidc) > 0 ? module.github_oidc[0].role_arn : ""
}

output "secret_arns" {
  description = "Secrets Manager secrets the Kubernetes Secrets are created from (docs/deploy-eks.md)."
  value = merge(
    { for service, arn in module.postgres.service_database_secret_arns : "${service}-database" => arn },
    {
      redis           = module.redis.secret_arn
      rabbitmq        = module.mq.secret_arn
      postgres-master = module.postgres.master_user_secret_arn
    },
  )
}

output "postgres_address" {
  description = "RDS host name (for the database bootstrap step)."
  value       = module.postgres.address
}

# Everything environment-specific the chart needs, as a values file:
#   terraform output -raw chart_values > charts/quizmesh/values-eks.generated.yaml
output "chart_values" {
  description = "Helm values for charts/quizmesh on this environment (combine with values-eks.yaml)."
  value = yamlencode({
    image = { registry = module.ecr.registry, repositoryPrefix = "${var.project}_" }
    backends = {
      redis = { host = module.redis.primary_endpoint }
      smtp  = { host = var.smtp_host }
    }
    networkPolicy = {
      externalBackendCidrs = [module.network.vpc_cidr_block]
      kubernetesApiCidrs   = [module.network.vpc_cidr_block]
      smtpCidrs            = ["0.0.0.0/0"]
    }
  })
}
