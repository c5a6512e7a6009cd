output "role_arns" {
  description = "IRSA role ARN per service (the ServiceAccount annotation eks.amazonaws.com/role-arn)."
  value       = { for service, role in aws_iam_role.service : service => role.arn }
}
