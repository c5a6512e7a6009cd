variable "project" {
  description = "Project name, the prefix of every resource and secret."
  type        = string
  default     = "quizmesh"
  validation {
    condition     = can(regex("^[a-z][a-z0-9]{2,15}$", var.project))
    error_message = "project must be 3-16 lowercase letters or digits."
  }
}

variable "environment" {
  description = "Environment name (dev, staging, prod)."
  type        = string
  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be dev, staging or prod."
  }
}

variable "services" {
  description = "Deployable services: one ECR repository each."
  type        = list(string)
  default     = ["gateway", "identity", "quiz", "evaluation", "notification", "operator"]
}

variable "vpc_cidr" {
  description = "IPv4 /16 of the VPC."
  type        = string
  default     = "10.0.0.0/16"
}

variable "az_count" {
  description = "Availability zones used."
  type        = number
  default     = 3
}

variable "single_nat_gateway" {
  description = "One shared NAT gateway instead of one per zone."
  type        = bool
  default     = false
}

variable "kubernetes_version" {
  description = "EKS Kubernetes version."
  type        = string
  default     = "1.33"
}

variable "eks_public_access_cidrs" {
  description = "CIDRs allowed to the public EKS API endpoint (empty: private endpoint only)."
  type        = list(string)
  default     = []
}

variable "node_instance_types" {
  description = "Node instance types."
  type        = list(string)
  default     = ["t3.large"]
}

variable "node_capacity_type" {
  description = "ON_DEMAND or SPOT nodes."
  type        = string
  default     = "ON_DEMAND"
}

variable "node_min_size" {
  description = "Minimum nodes."
  type        = number
  default     = 2
}

variable "node_max_size" {
  description = "Maximum nodes."
  type        = number
  default     = 6
}

variable "node_desired_size" {
  description = "Initial nodes."
  type        = number
  default     = 3
}

variable "postgres_instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.micro"
}

variable "postgres_multi_az" {
  description = "RDS Multi-AZ standby."
  type        = bool
  default     = false
}

variable "postgres_backup_retention_days" {
  description = "RDS automated backup retention in days."
  type        = number
  default     = 7
}

variable "redis_node_type" {
  description = "ElastiCache node type."
  type        = string
  default     = "cache.t4g.micro"
}

variable "redis_replicas" {
  description = "ElastiCache replicas besides the primary."
  type        = number
  default     = 0
}

variable "mq_instance_type" {
  description = "Amazon MQ instance type."
  type        = string
  default     = "mq.t3.micro"
}

variable "mq_cluster" {
  description = "Amazon MQ three-node cluster."
  type        = bool
  default     = false
}

variable "ecr_image_tag_mutability" {
  description = "ECR tag mutability: MUTABLE for an environment skaffold pushes to, IMMUTABLE for CI-only images."
  type        = string
  default     = "IMMUTABLE"
}

variable "deletion_protection" {
  description = "Protect stateful resources (RDS deletion protection, final snapshot, ECR force delete off)."
  type        = bool
  default     = true
}

variable "github_repository" {
  description = "owner/name of the GitHub repository whose main branch may push images (empty: no CI role)."
  type        = string
  default     = ""
}

variable "create_github_oidc_provider" {
  description = "Create GitHub's OIDC provider in this account (false when it already exists)."
  type        = bool
  default     = true
}

variable "smtp_host" {
  description = "SMTP relay for the notification binding, e.g. email-smtp.<region>.amazonaws.com (Amazon SES)."
  type        = string
  default     = ""
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}
