output "cluster_name" {
  description = "Name of the EKS cluster (aws eks update-kubeconfig --name ...)."
  value       = module.eks.cluster_name
}

output "cluster_endpoint" {
  description = "API server endpoint."
  value       = module.eks.cluster_endpoint
}

output "cluster_certificate_authority_data" {
  description = "Base64 CA certificate of the API server."
  value       = module.eks.cluster_certificate_authority_data
}

output "oidc_provider_arn" {
  description = "ARN of the IRSA OpenID Connect provider."
  value       = module.eks.oidc_provider_arn
}

output "oidc_provider" {
  description = "Issuer of the IRSA provider without https:// (for trust policy conditions)."
  value       = module.eks.oidc_provider
}

output "node_security_group_id" {
  description = "Security group of the nodes, allowed into the databases, cache and broker."
  value       = module.eks.node_security_group_id
}
