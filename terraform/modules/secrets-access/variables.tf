variable "name" {
  description = "Name prefix of the IAM roles (<name>-<service>)."
  type        = string
  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{2,40}$", var.name))
    error_message = "name must be 3-41 letters, digits or dashes."
  }
}

variable "oidc_provider_arn" {
  description = "ARN of the cluster's IRSA OpenID Connect provider."
  type        = string
}

variable "oidc_provider" {
  description = "Issuer of the IRSA provider without https://."
  type        = string
}

variable "namespace" {
  description = "Kubernetes namespace of the Quizmesh release."
  type        = string
  default     = "quizmesh"
}

variable "release_name" {
  description = "Helm release name; ServiceAccounts are <release>-<service>."
  type        = string
  default     = "quizmesh"
}

variable "service_secret_arns" {
  description = "Per service, the Secrets Manager ARNs its ServiceAccount may read (empty list: role without access)."
  type        = map(list(string))
  validation {
    condition     = alltrue([for arns in values(var.service_secret_arns) : alltrue([for arn in arns : startswith(arn, "arn:")])])
    error_message = "service_secret_arns values must be lists of ARNs."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
