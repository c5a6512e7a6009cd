variable "region" {
  description = "AWS region of the environment."
  type        = string
  default     = "eu-west-1"
  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region such as eu-west-1."
  }
}

variable "eks_public_access_cidrs" {
  description = "Your public IP ranges allowed to the EKS API (e.g. [\"203.0.113.7/32\"])."
  type        = list(string)
}

variable "github_repository" {
  description = "owner/name of the GitHub repository whose main branch may push images (empty: no CI role)."
  type        = string
  default     = ""
}

variable "create_github_oidc_provider" {
  description = "Create GitHub's OIDC provider (false if the account already has one)."
  type        = bool
  default     = true
}

variable "smtp_host" {
  description = "SMTP relay for notification mails (Amazon SES: email-smtp.<region>.amazonaws.com)."
  type        = string
}
