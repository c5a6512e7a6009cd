variable "repository" {
  description = "GitHub repository allowed to assume the role, as owner/name."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.repository))
    error_message = "repository must be owner/name."
  }
}

variable "branches" {
  description = "Branches whose workflow runs may push images."
  type        = list(string)
  default     = ["main"]
}

variable "repository_arns" {
  description = "ECR repositories the role may push to."
  type        = list(string)
}

variable "role_name" {
  description = "Name of the IAM role (the workflow's AWS_ROLE_ARN)."
  type        = string
}

variable "create_oidc_provider" {
  description = "Create GitHub's OIDC provider (only one per account; false reuses the existing one)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
