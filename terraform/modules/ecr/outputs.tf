output "repository_urls" {
  description = "Repository URL per service."
  value       = { for service, repository in aws_ecr_repository.service : service => repository.repository_url }
}

output "repository_arns" {
  description = "Repository ARN per service (for the CI push role)."
  value       = [for repository in aws_ecr_repository.service : repository.arn]
}

output "registry" {
  description = "Registry host (<account>.dkr.ecr.<region>.amazonaws.com), the chart's image.registry and skaffold's --default-repo."
  value       = split("/", values(aws_ecr_repository.service)[0].repository_url)[0]
}
