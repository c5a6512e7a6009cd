output "cluster_name" {
  description = "EKS cluster name (aws eks update-kubeconfig --name ...)."
  value       = module.quizmesh.cluster_name
}

output "ecr_registry" {
  description = "ECR registry host for skaffold --default-repo."
  value       = module.quizmesh.ecr_registry
}

output "github_ci_role_arn" {
  description = "IAM role the CI workflow assumes to push images."
  value       = module.quizmesh.github_ci_role_arn
}

output "secret_arns" {
  description = "Secrets Manager secrets to create the Kubernetes Secrets from."
  value       = module.quizmesh.secret_arns
}

output "postgres_address" {
  description = "RDS host name."
  value       = module.quizmesh.postgres_address
}

output "chart_values" {
  description = "Environment-specific Helm values: terraform output -raw chart_values > charts/quizmesh/values-eks.generated.yaml"
  value       = module.quizmesh.chart_values
}
